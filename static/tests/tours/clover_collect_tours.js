/* global CloverEmulator */

import { registry } from '@web/core/registry';

// The card fields are cross-origin iframes of the Clover emulator. With its `sdk_fill_hook`
// switch on, the emulator's sdk.js lets the page fill them, as a clerk's typing would.

/** Fill Clover's card fields one after the other, each once its frame confirms the value. */
async function typeCardIntoCloverFrames(values) {
    for (const [fieldType, value] of Object.entries(values)) {
        await new Promise((resolve, reject) => {
            const confirmed = event => {
                const data = event.data || {};
                if (data.source === 'clover-emulator' && data.type === fieldType && data.event === 'change') {
                    window.removeEventListener('message', confirmed);
                    clearInterval(retry);
                    clearTimeout(giveUp);
                    resolve();
                }
            };
            window.addEventListener('message', confirmed);
            // A frame still loading misses the first fill: fill again until it answers.
            const retry = setInterval(() => CloverEmulator.fill(fieldType, value), 250);
            const giveUp = setTimeout(() => {
                clearInterval(retry);
                reject(new Error(`Clover's ${fieldType} frame never took the value.`));
            }, 10000);
            CloverEmulator.fill(fieldType, value);
        });
    }
}

const openDialog = {
    content: "Open the Collect Clover Payment dialog",
    trigger: 'button[name="action_clover_collect_payment"]',
    run: 'click',
};

function chooseMode(label) {
    return {
        content: `Choose ${label}`,
        trigger: `.modal .o_field_widget[name="mode"] label:contains("${label}")`,
        run: 'click',
    };
}

function keyCard(number, cvv) {
    return {
        content: "Key the card into Clover's frames",
        trigger: '.modal .o_clover_collect_card iframe[name^="clover-CARD_POSTAL_CODE-"]',
        async run() {
            await typeCardIntoCloverFrames({
                CARD_NUMBER: number, CARD_DATE: '12/31', CARD_CVV: cvv, CARD_POSTAL_CODE: '62701',
            });
        },
    };
}

const closeDialog = {
    content: "Close the dialog",
    trigger: '.modal-footer button:contains("Close")',
    run: 'click',
};

registry.category('web_tour.tours').add('clover_collect_invoice_keyed_card', {
    steps: () => [
        openDialog,
        chooseMode('Keyed card'),
        {
            content: "The fee and the total show before anything is sent",
            trigger: '.modal .o_clover_total_amount:contains("103.30")',
        },
        { trigger: '.modal .o_clover_surcharge_amount:contains("3.30")' },
        keyCard('4000 0566 5566 5556', '7391'),
        {
            content: "Charge the card",
            trigger: '.modal .o_clover_charge_card:enabled:contains("103.30")',
            run: 'click',
        },
        {
            content: "Clover approved it",
            trigger: '.modal .o_clover_collect_status[data-state="done"]:contains("VISA ending 5556")',
            timeout: 20000,
        },
        closeDialog,
        {
            content: "The invoice is paid",
            trigger: '.o_form_view .ribbon:contains("In Payment"), .o_form_view .ribbon:contains("Paid")',
        },
    ],
});

registry.category('web_tour.tours').add('clover_collect_invoice_declined_card', {
    steps: () => [
        openDialog,
        chooseMode('Keyed card'),
        keyCard('4264 2815 1111 7771', '123'),
        {
            content: "Charge the card",
            trigger: '.modal .o_clover_charge_card:enabled',
            run: 'click',
        },
        {
            content: "Clover's refusal shows in the dialog",
            trigger: '.modal .o_clover_collect_status[data-state="error"]:contains("Card refused")',
            timeout: 20000,
        },
        { trigger: '.modal .o_clover_try_again' },
    ],
});

registry.category('web_tour.tours').add('clover_collect_order_keyed_card', {
    steps: () => [
        openDialog,
        chooseMode('Keyed card'),
        {
            content: "Collect a down payment",
            trigger: '.modal .o_field_widget[name="amount"] input',
            run: 'edit 50 && press Tab',
        },
        { trigger: '.modal .o_clover_total_amount:contains("50.00")' },
        keyCard('4242 4242 4242 4242', '123'),
        {
            content: "Charge the card",
            trigger: '.modal .o_clover_charge_card:enabled:contains("50.00")',
            run: 'click',
        },
        {
            content: "Clover approved it",
            trigger: '.modal .o_clover_collect_status[data-state="done"]',
            timeout: 20000,
        },
        closeDialog,
        {
            content: "The quotation is confirmed by its prepayment",
            trigger: '.o_statusbar_status button.o_arrow_button_current:contains("Sales Order")',
        },
    ],
});

const sendToTerminal = {
    content: "Send the payment to the preselected terminal",
    trigger: '.modal .o_clover_send_terminal:contains("to the terminal")',
    run: 'click',
};

const waitingForTheCustomer = {
    content: "The dialog follows the payment while the customer is at the terminal",
    trigger: '.modal .o_clover_collect_status[data-state="pending"]:has(.fa-spin)',
};

registry.category('web_tour.tours').add('clover_collect_invoice_terminal_approved', {
    steps: () => [
        openDialog,
        {
            content: "Terminal mode and the default terminal are preselected",
            trigger: '.modal .o_field_widget[name="terminal_id"] input:value("Front Counter Flex")',
        },
        sendToTerminal,
        waitingForTheCustomer,
        { trigger: '.modal .o_clover_cancel_terminal' },
        {
            content: "The customer tapped: approved",
            trigger: '.modal .o_clover_collect_status[data-state="done"]:contains("Approved")',
            timeout: 30000,
        },
        closeDialog,
        {
            content: "The invoice is paid",
            trigger: '.o_form_view .ribbon:contains("In Payment"), .o_form_view .ribbon:contains("Paid")',
        },
    ],
});

registry.category('web_tour.tours').add('clover_collect_invoice_terminal_declined', {
    steps: () => [
        openDialog,
        sendToTerminal,
        waitingForTheCustomer,
        {
            content: "The card was declined on the terminal, and the dialog says so",
            trigger: '.modal .o_clover_collect_status[data-state="error"]:contains("Declined")',
            timeout: 30000,
        },
        { trigger: '.modal .o_clover_try_again' },
    ],
});
