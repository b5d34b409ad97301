import { registry } from '@web/core/registry';

registry.category('web_tour.tours').add('clover_receipt_send_again', {
    steps: () => [
        {
            content: "The transaction form offers to send the receipt again",
            trigger: '.o_form_view button[name="action_clover_send_receipt"]',
            run: 'click',
        },
        {
            content: "Odoo says to whom the receipt went",
            trigger: '.o_notification:contains("The receipt was sent to")',
        },
    ],
});
