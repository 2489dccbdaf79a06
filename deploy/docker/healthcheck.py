"""Docker HEALTHCHECK: exit 0 when this container's /health answers 200, else 1.

/health is answered in front of Django (kirb_project/health.py): 200 with Redis and the
database reachable, 503 when either is down or the instance is draining.
"""

import os
import sys
import urllib.request

url = f"http://127.0.0.1:{os.environ.get('PORT') or '8000'}/health"
try:
    with urllib.request.urlopen(url, timeout=2) as response:
        sys.exit(0 if response.status == 200 else 1)
except Exception as error:  # HTTPError for a 503, URLError when nothing listens
    print(f"{url}: {error}", file=sys.stderr)
    sys.exit(1)
