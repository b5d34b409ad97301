import { registry } from '@web/core/registry';

// A clerk refunds a posted credit note with Clover from its form: the wizard says what Clover
// will do, the refund is made, and the credit note shows paid.
registry.category('web_tour.tours').add('fusion_clover_refund_credit_note', {
    steps: () => [
        {
            content: "Open the refund wizard from the credit note",
            trigger: '.o_form_view button[name="action_clover_refund"]',
            run: 'click',
        },
        {
            content: "The wizard says Clover will refund the payment, for the credit note's residual",
            trigger: '.modal .alert:contains("Clover refunds this amount to the card")',
        },
        {
            trigger: '.modal div[name="amount"] input:value("50.00")',
        },
        {
            content: "Ask for a screenshot of the wizard",
            trigger: '.modal footer button[name="action_confirm"]:contains("Refund")',
            async run() {
                console.log('fusion_clover: screenshot');
                await new Promise(resolve => setTimeout(resolve, 1000));
            },
        },
        {
            content: "Refund",
            trigger: '.modal footer button[name="action_confirm"]:contains("Refund")',
            run: 'click',
        },
        {
            content: "Clover says what it did",
            trigger: '.o_notification:contains("Clover refunded")',
        },
        {
            content: "The credit note is paid by the refund",
            trigger: '.o_form_view .ribbon:contains("Paid"), .o_form_view .ribbon:contains("In Payment")',
        },
        {
            content: "The smart button lists the refund",
            trigger: '.o_form_view button[name="action_view_clover_refunds"]:contains("1")',
        },
    ],
});

// A payment older than 180 days: its form says until when it was refundable, and the wizard
// offers a credit to the saved card instead of a refund.
registry.category('web_tour.tours').add('fusion_clover_refund_old_payment', {
    steps: () => [
        {
            content: "The form shows the payment's age and the last day Clover refunds it",
            trigger: '.o_form_view div[name="clover_payment_age"]:contains("200")',
        },
        {
            trigger: '.o_form_view div[name="clover_refund_deadline"]',
        },
        {
            content: "Open the refund wizard",
            trigger: '.o_form_view button[name="action_clover_refund"]',
            run: 'click',
        },
        {
            content: "Clover can no longer refund it: the wizard offers a credit",
            trigger: '.modal .alert:contains("within 180 days only")',
        },
        {
            content: "Ask for a screenshot of the credit wizard",
            trigger: '.modal footer button[name="action_confirm"]:contains("Credit")',
            async run() {
                console.log('fusion_clover: screenshot');
                await new Promise(resolve => setTimeout(resolve, 1000));
            },
        },
        {
            content: "Credit the saved card",
            trigger: '.modal footer button[name="action_confirm"]:contains("Credit")',
            run: 'click',
        },
        {
            content: "Clover says what it did",
            trigger: '.o_notification:contains("Clover credited")',
        },
    ],
});
