"""The terminal runner of this Odoo process: one thread per terminal payment waiting at a device.

REST Pay Display answers `POST /connect/v1/payments` only once the customer has acted, minutes
later perhaps. The cron `Clover: run terminal payments` claims the payments to send and hands them
here; each gets a thread that sends it and writes the outcome (see
`payment.transaction._clover_terminal_exchange`), and no transaction stays open while it waits.
So a cron worker serves any number of terminals at once and returns at once, HTTP workers are never
involved, and prefork mode works. While payments wait, a keeper thread renews their claims (leases):
if this process dies, the leases run out and a runner elsewhere (or after a restart) replays each
payment with its idempotency key.
"""
import logging
import threading
import time

from odoo import SUPERUSER_ID, api
from odoo.modules.registry import Registry

_logger = logging.getLogger(__name__)

# Seconds between two renewals of this process's leases; a lease lasts three times as long.
RENEW_INTERVAL = 10

_lock = threading.Lock()
_running = {}  # (database name, transaction id) -> whether its lease is renewed
_keeper = None


def running_ids(dbname):
    """Return the ids of the transactions of `dbname` this process is serving now."""
    with _lock:
        return [tx_id for (db, tx_id) in _running if db == dbname]


def serve(dbname, tx_ids, *, renew_leases=True):
    """Start a thread for each claimed transaction; return the threads started.

    :param bool renew_leases: Keep the claims alive while the payments wait (the cron's way;
                              tests that run in one transaction serve without a keeper).
    """
    threads = []
    with _lock:
        for tx_id in tx_ids:
            if (dbname, tx_id) in _running:
                continue
            thread = threading.Thread(
                target=_serve_one, args=(dbname, tx_id), daemon=True,
                name=f'clover-terminal-{dbname}-{tx_id}',
            )
            _running[(dbname, tx_id)] = renew_leases
            threads.append(thread)
    for thread in threads:
        thread.start()
    if renew_leases and threads:
        _ensure_keeper()
    return threads


def wait(threads, timeout):
    """Wait until `threads` finished, at most `timeout` seconds in all; return those still alive."""
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.join(max(deadline - time.monotonic(), 0))
    return [thread for thread in threads if thread.is_alive()]


def _serve_one(dbname, tx_id):
    threading.current_thread().dbname = dbname  # Odoo's log lines name the database.
    try:
        with Registry(dbname).cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            env['payment.transaction'].browse(tx_id)._clover_terminal_exchange()
    except Exception:
        # The lease runs out and a later run replays the payment with its idempotency key.
        _logger.exception("The Clover terminal payment of transaction %s failed to run.", tx_id)
    finally:
        with _lock:
            _running.pop((dbname, tx_id), None)


def _ensure_keeper():
    global _keeper  # noqa: PLW0603 - one keeper per process.
    with _lock:
        if _keeper is None:
            _keeper = threading.Thread(target=_keep_leases, daemon=True, name='clover-terminal-leases')
            _keeper.start()


def _keep_leases():
    global _keeper  # noqa: PLW0603
    while True:
        time.sleep(RENEW_INTERVAL)
        with _lock:
            by_database = {}
            for (dbname, tx_id), renewed in _running.items():
                if renewed:
                    by_database.setdefault(dbname, []).append(tx_id)
            if not by_database:
                _keeper = None  # Under the lock: a new payment starts a new keeper.
                return
        for dbname, tx_ids in by_database.items():
            try:
                with Registry(dbname).cursor() as cr:
                    env = api.Environment(cr, SUPERUSER_ID, {})
                    env['payment.transaction']._clover_renew_terminal_leases(tx_ids)
            except Exception:  # noqa: BLE001 - a missed renewal only lets another runner replay.
                _logger.exception("Could not renew the Clover terminal leases of %s.", dbname)
