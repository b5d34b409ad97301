import psycopg2

from odoo.exceptions import AccessError
from odoo.tests import tagged
from odoo.tools import mute_logger

from odoo.addons.fusion_clover.tests.terminal_common import CloverTerminalCommon


@tagged('post_install', '-at_install')
class TestCloverTerminal(CloverTerminalCommon):
    """Terminals in Odoo: the sync from Clover's device list, the default, and the device buttons."""

    # === Sync === #

    def test_sync_brings_in_the_merchants_devices_with_one_default(self):
        by_serial = {t.serial_number: t for t in self.terminals}
        self.assertEqual(set(by_serial), {d['serial'] for d in self.identities['devices']})
        for device in self.identities['devices']:
            terminal = by_serial[device['serial']]
            self.assertEqual(terminal.clover_device_id, device['id'])
            self.assertEqual(terminal.name, device['name'])
            self.assertIn(terminal.model, ("Clover Flex", "Clover Mini"))
        self.assertEqual(len(self.terminals.filtered('is_default')), 1)

    def test_sync_says_what_changed(self):
        self.terminals.unlink()
        action = self.provider.action_clover_sync_terminals()
        self.assertIn("2 added", action['params']['message'])
        action = self.provider.action_clover_sync_terminals()
        self.assertIn("up to date", action['params']['message'])

    def test_sync_keeps_names_updates_ids_and_archives_what_clover_dropped(self):
        renamed = self.terminals[0]
        renamed.write({'name': "Till 1"})
        renamed.sudo().clover_device_id = 'stale-id'
        gone = self.env['clover.terminal'].create({
            'name': "Old Flex", 'serial_number': 'C045UQ99999999', 'provider_id': self.provider.id,
        })
        gone.is_default = True

        message = self.provider.action_clover_sync_terminals()['params']['message']

        self.assertEqual(message, "Terminals synced: 1 updated, 1 archived")
        self.assertEqual(renamed.name, "Till 1")
        self.assertEqual(renamed.clover_device_id, next(
            d['id'] for d in self.identities['devices'] if d['serial'] == renamed.serial_number))
        self.assertFalse(gone.active)
        self.assertFalse(gone.is_default)
        self.assertEqual(len(self.provider.clover_terminal_ids.filtered('is_default')), 1)

    def test_sync_restores_a_device_clover_lists_again(self):
        self.terminals[1].active = False
        message = self.provider.action_clover_sync_terminals()['params']['message']
        self.assertEqual(message, "Terminals synced: 1 restored")
        self.assertTrue(self.terminals[1].active)

    def test_a_second_provider_may_register_the_same_serials(self):
        second = self.provider.copy({'name': "Clover (second shop)", **self._issue_tokens()})
        second.write({'clover_merchant_id': self.identities['merchant_id']})
        second.action_clover_sync_terminals()
        self.assertEqual(
            set(second.clover_terminal_ids.mapped('serial_number')),
            set(self.terminals.mapped('serial_number')),
        )

    @mute_logger('odoo.sql_db')
    def test_the_same_serial_twice_on_one_provider_is_refused(self):
        with self.assertRaises(psycopg2.errors.UniqueViolation), self.cr.savepoint():
            self.env['clover.terminal'].create({
                'name': "Copy", 'serial_number': self.terminal.serial_number, 'provider_id': self.provider.id,
            })

    def test_sync_is_for_admins_only(self):
        clerk = self._clover_user()
        with self.assertRaises(AccessError):
            self.provider.with_user(clerk).action_clover_sync_terminals()

    # === Default === #

    def test_setting_a_default_takes_it_from_the_previous_one(self):
        other = self.terminals - self.terminal
        other.is_default = True  # As the inline toggle does.
        self.assertTrue(other.is_default)
        self.assertFalse(self.terminal.is_default)
        self.terminal.action_clover_set_default()
        self.assertEqual(self.terminals.filtered('is_default'), self.terminal)

    @mute_logger('odoo.sql_db')
    def test_the_database_refuses_two_defaults(self):
        with self.assertRaises(psycopg2.errors.UniqueViolation), self.cr.savepoint():
            self.cr.execute(
                "UPDATE clover_terminal SET is_default = true WHERE id = ANY(%s)", [self.terminals.ids],
            )

    # === Ping and device actions === #

    def test_ping_says_ready_when_cloud_pay_display_runs(self):
        action = self.terminal.with_user(self._clover_user()).action_clover_ping()
        self.assertEqual(action['params']['type'], 'success')
        self.assertTrue(self.terminal.last_ping_ok)
        self.assertIn("Ready", self.terminal.last_ping_message)
        self.assertTrue(self.terminal.last_ping_at)
        [ping] = self._payment_requests('/connect/v1/device/ping')
        self.assertEqual(ping['headers']['x-clover-device-id'], self.terminal.serial_number)

    @mute_logger('odoo.addons.fusion_clover.models.payment_provider')
    def test_ping_says_what_to_do_when_the_app_is_not_running(self):
        self._emulator('POST', 'terminal/state', {'device': self.device['serial'], 'running': False})
        action = self.terminal.action_clover_ping()
        self.assertEqual(action['params']['type'], 'warning')
        self.assertFalse(self.terminal.last_ping_ok)
        self.assertIn("Open the Cloud Pay Display app", self.terminal.last_ping_message)

    @mute_logger('odoo.addons.fusion_clover.models.payment_provider')
    def test_device_id_kind_is_honoured_both_ways(self):
        self._emulator('POST', 'config', {'device_id_kind': 'uuid'})
        self.terminal.action_clover_ping()  # Still sends the serial: Clover does not know it.
        self.assertFalse(self.terminal.last_ping_ok)
        self.assertIn("does not recognize", self.terminal.last_ping_message)

        self.provider.clover_device_id_kind = 'uuid'
        self.terminal.action_clover_ping()
        self.assertTrue(self.terminal.last_ping_ok)
        self.assertEqual(
            self._payment_requests('/connect/v1/device/ping')[-1]['headers']['x-clover-device-id'],
            self.device['id'],
        )

        self._emulator('POST', 'config', {'device_id_kind': 'serial'})
        self.terminal.action_clover_ping()  # Now the device id is the wrong one.
        self.assertFalse(self.terminal.last_ping_ok)

    def test_welcome_cancel_and_reset_reach_the_device(self):
        self._emulator('POST', 'terminal/state', {'device': self.device['serial']})
        for action, method, path in (
            ('action_clover_show_welcome', 'POST', '/connect/v1/device/welcome'),
            ('action_clover_cancel_current', 'POST', '/connect/v1/device/cancel'),
            ('action_clover_reset', 'PUT', '/connect/v1/device/reset'),
        ):
            result = getattr(self.terminal, action)()
            self.assertEqual(result['params']['type'], 'success', action)
            self.assertEqual(self._calls(f'{method} {path}'), 1, action)
        self.assertEqual(self._device_state()['screen'], 'welcome')

    def test_clerks_use_terminals_but_do_not_manage_them(self):
        clerk_terminal = self.terminal.with_user(self._clover_user())
        self.assertEqual(clerk_terminal.action_clover_show_welcome()['params']['type'], 'success')
        with self.assertRaises(AccessError):
            clerk_terminal.name = "Renamed by a clerk"
        with self.assertRaises(AccessError):
            self.terminal.with_user(self.internal_user).action_clover_ping()
