import { registry } from '@web/core/registry';

// A clerk at the counter opens the terminals, pings the default one and reads the answer in words.
registry.category('web_tour.tours').add('clover_terminal_ping', {
    steps: () => [
        {
            content: "The default terminal is listed first",
            trigger: '.o_list_view .o_data_row:first-child td[name="name"]:contains("Front Counter Flex")',
        },
        {
            content: "Ping it",
            trigger: '.o_list_view .o_data_row:first-child button[name="action_clover_ping"]',
            run: 'click',
        },
        {
            content: "Odoo says it is ready, in plain words",
            trigger: '.o_notification:contains("Ready: Cloud Pay Display is running on Front Counter Flex")',
        },
        {
            content: "The result stays on the terminal's row",
            trigger: '.o_list_view .o_data_row:first-child td[name="last_ping_message"]:contains("Ready")',
        },
    ],
});

// An administrator syncs the devices from the provider's Terminals tab.
registry.category('web_tour.tours').add('clover_terminal_sync', {
    steps: () => [
        {
            content: "Open the Terminals tab",
            trigger: '.o_notebook a[name="clover_terminals"]',
            run: 'click',
        },
        {
            content: "Sync Terminals",
            trigger: 'button[name="action_clover_sync_terminals"]',
            run: 'click',
        },
        {
            content: "Odoo says what changed",
            trigger: '.o_notification:contains("Terminals synced: 2 added")',
        },
        {
            content: "The devices are listed under the provider",
            trigger: '.o_field_widget[name="clover_terminal_ids"] .o_data_row:contains("Pharmacy Mini")',
        },
    ],
});
