from django.apps import AppConfig


class ChatConfig(AppConfig):
    name = "chat"
    verbose_name = "Housing feed"

    def ready(self):
        from chat import hub, services
        from core import lifecycle
        from security.signals import reports_dismissed

        reports_dismissed.connect(services.restore_after_dismissal, dispatch_uid="chat.restore_after_dismissal")
        # /health and the SIGTERM drain reach the hub's sockets through the base.
        lifecycle.provide_live_sockets(
            lifecycle.LiveSockets(count=hub.local_socket_count, stream_state=hub.stream_state, drain=hub.drain_current)
        )
