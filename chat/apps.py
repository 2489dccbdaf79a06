from django.apps import AppConfig


class ChatConfig(AppConfig):
    name = "chat"
    verbose_name = "Housing feed"

    def ready(self):
        from chat import services
        from security.signals import reports_dismissed

        reports_dismissed.connect(services.restore_after_dismissal, dispatch_uid="chat.restore_after_dismissal")
