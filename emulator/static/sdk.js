/* Stand-in for Clover's hosted iframe SDK (https://checkout.clover.com/sdk.js), served by the
   local Clover emulator. Same surface: new Clover(key, {merchantId}), clover.elements(),
   elements.create(type, styles).mount(selector), element events, clover.createToken().
   Card inputs live in iframes of the emulator's origin; this page only ever sees tokens. */
(function () {
  "use strict";
  var FILL_HOOK = __FILL_HOOK__;
  var TYPES = {
    CARD_NUMBER: "Card number", CARD_DATE: "Expiry date", CARD_CVV: "CVV",
    CARD_POSTAL_CODE: "Postal code", CARD_NAME: "Name on card"
  };
  var ORIGIN = (function () {
    var script = document.currentScript;
    if (!script) {
      var scripts = document.querySelectorAll("script[src*='/sdk.js']");
      script = scripts[scripts.length - 1];
    }
    return new URL(script ? script.src : "/", window.location.href).origin;
  })();
  var counter = 0;

  function query(params) {
    return Object.keys(params).map(function (key) {
      return encodeURIComponent(key) + "=" + encodeURIComponent(params[key]);
    }).join("&");
  }

  function frame(path, params, name, title) {
    var iframe = document.createElement("iframe");
    iframe.src = ORIGIN + path + "?" + query(params);
    iframe.name = name;
    iframe.title = title;
    iframe.setAttribute("frameborder", "0");
    iframe.setAttribute("scrolling", "no");
    return iframe;
  }

  function Element(clover, type, styles) {
    this.clover = clover;
    this.type = type;
    this.styles = styles || {};
    this.listeners = {};
    this.state = {touched: false};
    this.iframe = null;
  }

  Element.prototype.mount = function (target) {
    var host = typeof target === "string" ? document.querySelector(target) : target;
    if (!host) { throw new Error("Clover: nothing matches " + target); }
    this.iframe = frame("/_sdk/field", {
      type: this.type, instance: this.clover.id, parent: window.location.origin,
      styles: JSON.stringify(this.styles)
    }, "clover-" + this.type + "-" + this.clover.id, "Clover " + TYPES[this.type]);
    this.iframe.style.cssText = "width:100%;height:44px;border:0;display:block;overflow:hidden;";
    host.appendChild(this.iframe);
    this.clover._controller();
    return this;
  };

  Element.prototype.unmount = function () {
    if (this.iframe && this.iframe.parentNode) { this.iframe.parentNode.removeChild(this.iframe); }
    this.iframe = null;
  };
  Element.prototype.destroy = Element.prototype.unmount;

  Element.prototype.addEventListener = function (name, callback) {
    (this.listeners[name] = this.listeners[name] || []).push(callback);
  };

  Element.prototype.removeEventListener = function (name, callback) {
    this.listeners[name] = (this.listeners[name] || []).filter(function (cb) { return cb !== callback; });
  };

  function Clover(apiAccessKey, options) {
    if (!(this instanceof Clover)) { return new Clover(apiAccessKey, options); }
    if (!apiAccessKey) { throw new Error("Clover: an apiAccessKey is required"); }
    this.key = apiAccessKey;
    this.options = options || {};
    this.id = "clv" + (++counter) + Math.random().toString(36).slice(2, 8);
    this.mounted = [];
    this.pending = {};
    this.controllerFrame = null;
    this.ready = null;
    window.addEventListener("message", this._receive.bind(this));
  }

  Clover.prototype.elements = function () {
    var clover = this;
    return {
      create: function (type, styles) {
        if (!TYPES[type]) { throw new Error("Clover: unsupported element type " + type); }
        var element = new Element(clover, type, styles);
        clover.mounted.push(element);
        return element;
      }
    };
  };

  /* A hidden frame of the emulator's origin that gathers field values and tokenizes. */
  Clover.prototype._controller = function () {
    if (this.ready) { return this.ready; }
    var clover = this;
    this.ready = new Promise(function (resolve) { clover._resolveReady = resolve; });
    this.controllerFrame = frame("/_sdk/controller", {
      instance: this.id, key: this.key, merchant: this.options.merchantId || "",
      parent: window.location.origin
    }, "clover-controller-" + this.id, "Clover");
    this.controllerFrame.style.display = "none";
    document.body.appendChild(this.controllerFrame);
    return this.ready;
  };

  Clover.prototype._eventFor = function () {
    var event = {};
    this.mounted.forEach(function (element) { event[element.type] = element.state; });
    return event;
  };

  Clover.prototype._receive = function (message) {
    var data = message.data || {};
    if (message.origin !== ORIGIN || data.source !== "clover-emulator" || data.instance !== this.id) {
      return;
    }
    if (data.event === "ready") {
      this._resolveReady();
    } else if (data.event === "token") {
      var resolve = this.pending[data.requestId];
      delete this.pending[data.requestId];
      if (resolve) { resolve(data.result); }
    } else {
      var event = null;
      this.mounted.forEach(function (element) {
        if (element.type === data.type) { element.state = data.state; }
      });
      event = this._eventFor();
      this.mounted.forEach(function (element) {
        if (element.type === data.type) {
          (element.listeners[data.event] || []).forEach(function (cb) { cb(event); });
        }
      });
    }
  };

  Clover.prototype.createToken = function () {
    var clover = this;
    return this._controller().then(function () {
      return new Promise(function (resolve) {
        var requestId = "t" + Date.now() + Math.random().toString(36).slice(2);
        clover.pending[requestId] = resolve;
        var fields = clover.mounted.filter(function (e) { return e.iframe; })
          .map(function (e) { return e.type; });
        clover.controllerFrame.contentWindow.postMessage(
          {action: "tokenize", instance: clover.id, requestId: requestId, fields: fields}, ORIGIN);
      });
    });
  };

  window.Clover = Clover;

  /* Off by default: lets a cross-origin test driver fill a field, e.g.
     CloverEmulator.fill("CARD_NUMBER", "4242424242424242"). */
  if (FILL_HOOK) {
    window.CloverEmulator = {
      fill: function (type, value) {
        var frames = document.querySelectorAll("iframe[name^='clover-" + type + "-']");
        Array.prototype.forEach.call(frames, function (iframe) {
          iframe.contentWindow.postMessage({action: "fill", type: type, value: value}, ORIGIN);
        });
      }
    };
  }
})();
