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
