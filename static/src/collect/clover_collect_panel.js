/* global Clover */

import { Component, onWillUnmount, useEffect, useState } from '@odoo/owl';
import { loadJS } from '@web/core/assets';
import { _t } from '@web/core/l10n/translation';
import { rpc } from '@web/core/network/rpc';
import { registry } from '@web/core/registry';
import { useService } from '@web/core/utils/hooks';
import { formatMonetary } from '@web/views/fields/formatters';
import { standardWidgetProps } from '@web/views/widgets/standard_widget_props';

// The card fields of Clover's hosted iframe. The card is typed into Clover's frames: this page,
// and so Odoo, only ever sees the single-use token Clover makes of it.
const CLOVER_FIELDS = ['CARD_NUMBER', 'CARD_DATE', 'CARD_CVV', 'CARD_POSTAL_CODE'];
const CLOVER_FIELD_LABELS = {
    CARD_NUMBER: _t("Card number"),
    CARD_DATE: _t("Expiration (MM/YY)"),
    CARD_CVV: _t("CVV"),
    CARD_POSTAL_CODE: _t("ZIP / Postal code"),
};
const CLOVER_FIELD_STYLES = { input: { fontSize: '15px' } };
// The bus brings terminal updates at once; polling is the fallback when it does not.
const POLL_INTERVAL = 2000;

/**
 * The working part of the collect dialog: the keyed card's Clover fields and its Charge button, or
 * the terminal's Send button, live status and Cancel button.
 */
export class CloverCollectPanel extends Component {
    static template = 'fusion_clover.CloverCollectPanel';
    static props = { ...standardWidgetProps };

    setup() {
        this.orm = useService('orm');
        this.busService = this.env.services.bus_service;
        this.fields = CLOVER_FIELDS.map(type => ({ type, label: CLOVER_FIELD_LABELS[type] }));
        this.state = useState({
            busy: false,
            cardReady: false,
            cardErrors: {},
            error: '',
            status: null,
        });
        this.clover = null;
        this.pollTimer = null;
        this.pollInFlight = false;
        this.onTerminalStatus = payload => this._onTerminalStatus(payload);
        this.busService?.subscribe('fusion_clover.terminal_status', this.onTerminalStatus);
        useEffect(
            mode => {
                if (mode === 'card') {
                    this._mountCardFields();
                }
            },
            () => [this.props.record.data.mode],
        );
        onWillUnmount(() => {
            this._stopPolling();
            this.busService?.unsubscribe('fusion_clover.terminal_status', this.onTerminalStatus);
        });
    }

    get record() {
        return this.props.record;
    }

    get mode() {
        return this.record.data.mode;
    }

    get inFlight() {
        const status = this.state.status;
        return this.state.busy || Boolean(status && !status.final);
    }

    get approved() {
        return Boolean(this.state.status?.approved);
    }

    get canStart() {
        return !this.inFlight && !this.approved;
    }

    get statusClass() {
        const status = this.state.status;
        if (!status) {
            return '';
        }
        if (status.approved) {
            return 'alert-success';
        }
        if (!status.final) {
            return 'alert-info';
        }
        return status.state === 'cancel' ? 'alert-warning' : 'alert-danger';
    }

    get totalLabel() {
        return formatMonetary(this.record.data.total_amount, {
            currencyId: this.record.data.currency_id?.id,
        });
    }

    fieldId(type) {
        return `o_clover_collect_${type}_${this.record.resId}`;
    }

    // #=== KEYED CARD ===#

    async _mountCardFields() {
        if (this.clover || !this.record.data.card_form_values) {
            return;
        }
        const values = JSON.parse(this.record.data.card_form_values);
        try {
            await loadJS(values.sdk_url);
        } catch {
            this.state.error = _t("Clover's card form could not be loaded. Check the connection and open the dialog again.");
            return;
        }
        this.clover = new Clover(values.pakms_key, { merchantId: values.merchant_id });
        const elements = this.clover.elements();
        for (const type of CLOVER_FIELDS) {
            const element = elements.create(type, CLOVER_FIELD_STYLES);
            element.mount(`#${this.fieldId(type)}`);
            const showErrors = event => this._showCardErrors(event, true);
            element.addEventListener('change', showErrors);
            element.addEventListener('blur', showErrors);
        }
        this.state.cardReady = true;
    }

    /**
     * @param {object} fieldStates - `{CARD_NUMBER: {touched, error}, ...}` of a field event, or the
     *                               `{CARD_NUMBER: "message", ...}` errors of `createToken()`.
     * @param {boolean} touchedOnly - Only show errors of fields the clerk has left.
     */
    _showCardErrors(fieldStates, touchedOnly = false) {
        const errors = {};
        for (const type of CLOVER_FIELDS) {
            const state = fieldStates[type];
            const message = typeof state === 'string' ? state : state?.error;
            if (message && (!touchedOnly || state.touched)) {
                errors[type] = message;
            }
        }
        this.state.cardErrors = errors;
    }

    async onChargeCard() {
        if (!this.clover || !this.canStart) {
            return;
        }
        this.state.error = '';
        this.state.busy = true;
        try {
            let result;
            try {
                result = await this.clover.createToken();
            } catch {
                result = { errors: { CARD_NUMBER: _t("Clover could not be reached. Please try again.") } };
            }
            this._showCardErrors(result.errors || {});
            if (!result.token) {
                return;
            }
            if (!(await this.record.save())) {
                return;
            }
            const status = await this._call(() => rpc('/payment/clover/collect/card', {
                wizard_id: this.record.resId,
                card_token: result.token,
            }));
            await this._showStatus(status);
        } finally {
            this.state.busy = false;
        }
    }

    // #=== TERMINAL ===#

    async onSendToTerminal() {
        if (!this.canStart) {
            return;
        }
        this.state.error = '';
        this.state.busy = true;
        try {
            if (!(await this.record.save())) {
                return;
            }
            const status = await this._call(
                () => this.orm.call('clover.payment.wizard', 'clover_send_to_terminal', [[this.record.resId]]),
            );
            await this._showStatus(status);
        } finally {
            this.state.busy = false;
        }
    }

    async onCancelTerminal() {
        const status = await this._call(
            () => this.orm.call('clover.payment.wizard', 'clover_cancel_terminal', [[this.record.resId]]),
        );
        await this._showStatus(status);
    }

    _onTerminalStatus(payload) {
        if (payload.id === this.state.status?.id) {
            // The bus tells; the server books: ask it for the booked status.
            this._poll();
        }
    }

    // #=== STATUS ===#

    /** Run an RPC and show its refusal in the dialog rather than in an error dialog. */
    async _call(rpcCall) {
        try {
            return await rpcCall();
        } catch (error) {
            this.state.error = error.data?.message || error.message || _t("The request failed.");
            return null;
        }
    }

    async _showStatus(status) {
        if (!status) {
            return;
        }
        this.state.status = status;
        if (status.final) {
            this._stopPolling();
            await this.record.load();
        } else if (!this.pollTimer) {
            this.pollTimer = setInterval(() => this._poll(), POLL_INTERVAL);
        }
    }

    async _poll() {
        if (this.pollInFlight || !this.state.status || this.state.status.final) {
            return; // One question at a time, and none once the payment is settled.
        }
        this.pollInFlight = true;
        try {
            const status = await this._call(
                () => this.orm.call('clover.payment.wizard', 'clover_poll_status', [[this.record.resId]]),
            );
            if (status && this.state.status && !this.state.status.final) {
                await this._showStatus(status);
            }
        } finally {
            this.pollInFlight = false;
        }
    }

    _stopPolling() {
        clearInterval(this.pollTimer);
        this.pollTimer = null;
    }

    onTryAgain() {
        this.state.status = null;
        this.state.error = '';
    }
}

registry.category('view_widgets').add('clover_collect_panel', { component: CloverCollectPanel });
