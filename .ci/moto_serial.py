"""moto's server, answering one request at a time.

Why: moto's DynamoDB backend takes no lock, and `moto_server` serves each request on its own
thread, so two conditional UpdateItems on one item can both read the old item and both pass
their condition. Real DynamoDB serialises writes to one item; our race tests exist to prove we
rely on exactly that. Served one request at a time, moto gives the same guarantee (and is
faster here, having no thread start per request). Everything else is moto's own server: the same
dispatcher application and request handler that `moto_server` builds.

Usage: python moto_serial.py HOST PORT
"""

import signal
import sys

from werkzeug.serving import run_simple
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)


def main() -> None:
    host, port = sys.argv[1], int(sys.argv[2])
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    app = DomainDispatcherApplication(create_backend_app)
    # threaded=False, processes=1: werkzeug's single-threaded server. It speaks HTTP/1.0, so a
    # client's idle keep-alive connection can never hold the one thread.
    run_simple(
        host,
        port,
        app,
        threaded=False,
        processes=1,
        use_reloader=False,
        request_handler=MotoRequestHandler,
    )


if __name__ == "__main__":
    main()
