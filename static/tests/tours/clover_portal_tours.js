/* global CloverEmulator */

import { registry } from '@web/core/registry';

// The card fields are cross-origin iframes of the Clover emulator: a tour cannot type into them.
// With its `sdk_fill_hook` switch on, the emulator's sdk.js accepts fills from the page.

/**
 * Fill one Clover card field and resolve once the field frame reports the change.
 *
 * The frame may still be loading when first asked: ask again until it answers.
 */
function fillCloverField(fieldType, value) {
    return new Promise((resolve, reject) => {
        let timer;
        const onMessage = event => {
            const data = event.data || {};
            if (data.source === 'clover-emulator' && data.type === fieldType && data.event === 'change') {
                clearInterval(timer);
                window.removeEventListener('message', onMessage);
                resolve();
            }
        };
        window.addEventListener('message', onMessage);
        const fill = () => CloverEmulator.fill(fieldType, value);
        timer = setInterval(fill, 200);
        fill();
        setTimeout(() => {
            clearInterval(timer);
            reject(new Error(`The Clover field ${fieldType} never took the value.`));
        }, 10000);
    });
}

function fillCard({ number, date = '12/31', cvv = '123', postalCode = '62701' }) {
    return {
        content: "Type the card into Clover's fields",
        trigger: '#o_payment_form iframe[name^="clover-CARD_POSTAL_CODE-"]',
        async run() {
            await fillCloverField('CARD_NUMBER', number);
            await fillCloverField('CARD_DATE', date);
            await fillCloverField('CARD_CVV', cvv);
            await fillCloverField('CARD_POSTAL_CODE', postalCode);
        },
    };
}

const selectClover = {
    content: "Choose to pay by card with Clover",
    trigger: 'input[name="o_payment_radio"][data-provider-code="clover"][data-payment-option-type="payment_method"]',
    run: 'click',
};

const pay = {
    content: "Pay",
    trigger: 'button[name="o_payment_submit_button"]:enabled',
    run: 'click',
};

const invoicePaid = {
    content: "Back on the invoice, it is paid",
    trigger: 'div[name="invoice_paid_badge"]',
    timeout: 30000,
};

registry.category('web_tour.tours').add('clover_portal_pay_invoice', {
    steps: () => [
        selectClover,
        fillCard({ number: '4242 4242 4242 4242' }),
        { ...pay, expectUnloadPage: true },
        invoicePaid,
    ],
});

registry.category('web_tour.tours').add('clover_portal_pay_invoice_and_save_card', {
    steps: () => [
        selectClover,
        fillCard({ number: '4242 4242 4242 4242' }),
        {
            content: "Save the card",
            trigger: 'input[name="o_payment_tokenize_checkbox"]',
            run: 'check',
        },
        { ...pay, expectUnloadPage: true },
        invoicePaid,
    ],
});

registry.category('web_tour.tours').add('clover_portal_pay_invoice_with_saved_card', {
    steps: () => [
        {
            content: "Choose the saved card",
            trigger: 'input[name="o_payment_radio"][data-provider-code="clover"][data-payment-option-type="token"]',
            run: 'click',
        },
        { ...pay, expectUnloadPage: true },
        invoicePaid,
    ],
});

registry.category('web_tour.tours').add('clover_portal_declined_card', {
    steps: () => [
        selectClover,
        fillCard({ number: '4264 2815 1111 7771' }),
        pay,
        {
            content: "Clover's decline shows, and the customer can try again",
            trigger: '.modal-content:contains("The card was declined")',
        },
    ],
});

registry.category('web_tour.tours').add('clover_portal_card_field_errors', {
    steps: () => [
        selectClover,
        fillCard({ number: '4242 4242 4242 4241', date: '13/31', cvv: '1' }),
        pay,
        {
            content: "Each field shows its own error",
            trigger: '[data-clover-error="CARD_NUMBER"]:not(.d-none):contains("Card number is invalid")',
        },
        { trigger: '[data-clover-error="CARD_DATE"]:not(.d-none):contains("expiry date is invalid")' },
        { trigger: '[data-clover-error="CARD_CVV"]:not(.d-none):contains("CVV is invalid")' },
        { trigger: '.o_clover_form:has([data-clover-error="CARD_POSTAL_CODE"].d-none)' },
        { trigger: 'button[name="o_payment_submit_button"]:enabled' },
    ],
});
