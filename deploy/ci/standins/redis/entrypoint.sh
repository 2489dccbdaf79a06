#!/bin/sh
# As the official image does: redis-server without a configuration file listens on
# every interface, and protected mode (loopback only without a password) is off.
if [ "$1" = redis-server ]; then
    shift
    set -- redis-server --protected-mode no "$@"
fi
exec "$@"
