/* Card checks shared by the emulator's field and controller frames (emulator origin only). */
(function () {
  "use strict";
  var BIN_RANGES = __BIN_RANGES__;

  function digits(value) {
    return String(value || "").replace(/[\s-]/g, "");
  }

  function luhn(number) {
    if (!/^\d+$/.test(number)) { return false; }
    var total = 0;
    for (var i = 0; i < number.length; i++) {
      var digit = Number(number.charAt(number.length - 1 - i));
      if (i % 2) { digit = digit > 4 ? digit * 2 - 9 : digit * 2; }
      total += digit;
    }
    return total % 10 === 0;
  }

  function brandOf(number) {
    for (var i = 0; i < BIN_RANGES.length; i++) {
      var low = BIN_RANGES[i][1];
      var head = number.slice(0, low.length);
      if (head.length === low.length && /^\d+$/.test(head)
          && Number(low) <= Number(head) && Number(head) <= Number(BIN_RANGES[i][2])) {
        return BIN_RANGES[i][0];
      }
    }
    return null;
  }

  /* "MM/YY", "MM / YYYY" or "MMYY" -> {month: "MM", year: "YYYY"}, or null. */
  function parseExpiry(value) {
    var match = String(value || "").replace(/\s/g, "").match(/^(\d{1,2})\/?(\d{2}|\d{4})$/);
    if (!match) { return null; }
    var month = Number(match[1]);
    if (month < 1 || month > 12) { return null; }
    var year = match[2].length === 2 ? "20" + match[2] : match[2];
    return {month: (month < 10 ? "0" : "") + month, year: year};
  }

  var RULES = {
    CARD_NUMBER: {label: "Card number", valid: function (v) {
      var n = digits(v); return n.length >= 12 && n.length <= 19 && luhn(n) && !!brandOf(n);
    }},
    CARD_DATE: {label: "Card expiry date", valid: function (v) { return !!parseExpiry(v); }},
    CARD_CVV: {label: "CVV", valid: function (v) { return /^\d{3,4}$/.test(String(v).trim()); }},
    CARD_POSTAL_CODE: {label: "Postal code", valid: function (v) {
      return /^[A-Za-z0-9][A-Za-z0-9 -]{1,9}$/.test(String(v).trim());
    }},
    CARD_NAME: {label: "Name on card", optional: true, valid: function (v) {
      return String(v).trim().length > 0;
    }}
  };

  /* The error message a field shows for its value, or undefined when it is fine. */
  function fieldError(type, value) {
    var rule = RULES[type];
    if (!rule) { return undefined; }
    if (!String(value || "").trim()) {
      return rule.optional ? undefined : rule.label + " is required.";
    }
    return rule.valid(value) ? undefined : rule.label + " is invalid.";
  }

  window.CloverEmulatorCard = {
    digits: digits, brandOf: brandOf, parseExpiry: parseExpiry, fieldError: fieldError
  };
})();
