/* global Clover */

import { loadJS } from '@web/core/assets';
import { _t } from '@web/core/l10n/translation';
import { rpc, RPCError } from '@web/core/network/rpc';
import { patch } from '@web/core/utils/patch';

import { PaymentForm } from '@payment/interactions/payment_form';

// The card fields Clover's iframe SDK mounts; the card never leaves Clover's frames.
const CLOVER_FIELDS = ['CARD_NUMBER', 'CARD_DATE', 'CARD_CVV', 'CARD_POSTAL_CODE'];
const CLOVER_FIELD_STYLES = { input: { fontSize: '16px' } };

patch(PaymentForm.prototype, {

    setup() {
        super.setup();
        this.cloverForms = {}; // The mounted Clover form of each payment option, by its id.
    },

    // #=== DOM MANIPULATION ===#

    /**
     * Load Clover's SDK and mount its card fields in the inline form.
     *
     * @override method from @payment/interactions/payment_form
     * @private
     * @param {number} providerId - The id of the selected payment option's provider.
     * @param {string} providerCode - The code of the selected payment option's provider.
     * @param {number} paymentOptionId - The id of the selected payment option.
     * @param {string} paymentMethodCode - The code of the selected payment method, if any.
     * @param {string} flow - The online payment flow of the selected payment option.
     * @return {void}
     */
    async _prepareInlineForm(providerId, providerCode, paymentOptionId, paymentMethodCode, flow) {
        if (providerCode !== 'clover') {
            await super._prepareInlineForm(...arguments);
            return;
        }
        if (flow === 'token') {
            return; // A saved card is charged by the server: there is nothing to fill in.
        }
        this._setPaymentFlow('direct');
        if (this.cloverForms[paymentOptionId]) {
            return; // Mounted already: keep what the customer typed.
        }

        const radio = this.el.querySelector('input[name="o_payment_radio"]:checked');
        const formElement = this._getInlineForm(radio).querySelector('[name="o_clover_form"]');
        const values = JSON.parse(formElement.dataset['cloverInlineFormValues']);
        try {
            await this.waitFor(loadJS(values.sdk_url));
        } catch {
            this._displayErrorDialog(
                _t("Card payments are unavailable"),
                _t("Clover's card form could not be loaded. Please try again later."),
            );
            return;
        }
        const clover = new Clover(values.pakms_key, { merchantId: values.merchant_id });
        const elements = clover.elements();
        for (const fieldType of CLOVER_FIELDS) {
            const element = elements.create(fieldType, CLOVER_FIELD_STYLES);
            element.mount(`#o_clover_${fieldType}_${paymentOptionId}`);
            const showErrors = event => this._cloverShowFieldErrors(formElement, event, true);
            element.addEventListener('change', showErrors);
            element.addEventListener('blur', showErrors);
        }
        this.cloverForms[paymentOptionId] = { clover, formElement };
    },

    /**
     * Show each field's error under it, or clear it.
     *
     * @private
     * @param {HTMLElement} formElement - The Clover inline form.
     * @param {object} fieldStates - Clover's `{CARD_NUMBER: {touched, error}, ...}`, or the
     *                               `{CARD_NUMBER: "message", ...}` errors of `createToken()`.
     * @param {boolean} touchedOnly - Only show errors of fields the customer has left.
     * @return {void}
     */
    _cloverShowFieldErrors(formElement, fieldStates, touchedOnly = false) {
        for (const fieldType of CLOVER_FIELDS) {
            const state = fieldStates[fieldType];
            const message = typeof state === 'string' ? state : state?.error;
            const shown = Boolean(message) && (!touchedOnly || state.touched);
            const errorElement = formElement.querySelector(`[data-clover-error="${fieldType}"]`);
            errorElement.textContent = shown ? message : '';
            errorElement.classList.toggle('d-none', !shown);
        }
    },

    // #=== PAYMENT FLOW ===#

    /**
     * Turn the card into a Clover token before creating the transaction, so that a mistyped card
     * creates no transaction and shows its error where it belongs.
     *
     * @override method from @payment/interactions/payment_form
     * @private
     * @param {string} providerCode - The code of the selected payment option's provider.
     * @param {number} paymentOptionId - The id of the selected payment option.
     * @param {string} paymentMethodCode - The code of the selected payment method, if any.
     * @param {string} flow - The payment flow of the selected payment option.
     * @return {void}
     */
    async _initiatePaymentFlow(providerCode, paymentOptionId, paymentMethodCode, flow) {
        if (providerCode !== 'clover' || flow === 'token') {
            await super._initiatePaymentFlow(...arguments);
            return;
        }
        const cloverForm = this.cloverForms[paymentOptionId];
        if (!cloverForm) { // Clover's SDK did not load.
            this._enableButton();
            return;
        }
        let result;
        try {
            result = await this.waitFor(cloverForm.clover.createToken());
        } catch {
            result = { errors: { CARD_NUMBER: _t("Clover could not be reached. Please try again.") } };
        }
        this._cloverShowFieldErrors(cloverForm.formElement, result.errors || {});
        if (!result.token) {
            this._enableButton(); // The button was disabled when the form was submitted.
            return;
        }
        cloverForm.cardToken = result.token;
        await super._initiatePaymentFlow(...arguments);
    },

    /**
     * Have the server pay with the card token, then show the outcome.
     *
     * @override method from @payment/interactions/payment_form
     * @private
     * @param {string} providerCode - The code of the selected payment option's provider.
     * @param {number} paymentOptionId - The id of the selected payment option.
     * @param {string} paymentMethodCode - The code of the selected payment method, if any.
     * @param {object} processingValues - The processing values of the transaction.
     * @return {void}
     */
    async _processDirectFlow(providerCode, paymentOptionId, paymentMethodCode, processingValues) {
        if (providerCode !== 'clover') {
            await super._processDirectFlow(...arguments);
            return;
        }
        const cloverForm = this.cloverForms[paymentOptionId];
        const cardToken = cloverForm.cardToken;
        delete cloverForm.cardToken; // Single use: a new attempt tokenizes the card again.
        try {
            const result = await this.waitFor(rpc('/payment/clover/payment', {
                reference: processingValues.reference,
                access_token: processingValues.access_token,
                card_token: cardToken,
            }));
            if (result.state === 'error') {
                this._displayErrorDialog(_t("Payment processing failed"), result.state_message);
                this._enableButton();
                return;
            }
            window.location = '/payment/status';
        } catch (error) {
            if (error instanceof RPCError) {
                this._displayErrorDialog(_t("Payment processing failed"), error.data.message);
                this._enableButton();
            } else {
                return Promise.reject(error);
            }
        }
    },

});
