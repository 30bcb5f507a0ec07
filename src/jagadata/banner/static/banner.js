// jagadata cookie banner. __CONFIG__ and __CSS__ are filled in by jagadata.banner.script.
(function (w, d) {
  "use strict";
  var C = __CONFIG__, K = "jagadata:" + C.o, CK = K.replace(/\W/g, "_"), N = w.navigator;
  var L = (d.documentElement.lang || "").slice(0, 2).toLowerCase();
  if (L == "in") L = "id";
  if (C.l.indexOf(L) < 0) L = C.l[0];
  var T = C.t[L], G = !!(C.gpc || N.globalPrivacyControl === true);
  var S = load(), ok = !!(S && S.e === C.e && S.c), box, dlg, btn, last, styled;

  function load() {
    try { var v = w.localStorage.getItem(K); if (v) return JSON.parse(v); } catch (e) {}
    try {
      var m = d.cookie.match(new RegExp("(?:^|; )" + CK + "=([^;]*)"));
      return m ? JSON.parse(decodeURIComponent(m[1])) : null;
    } catch (e) { return null; }
  }
  function save() {
    var v = JSON.stringify(S);
    try { w.localStorage.setItem(K, v); } catch (e) {
      try {
        d.cookie = CK + "=" + encodeURIComponent(v) + ";path=/;max-age=31536000;SameSite=Lax";
      } catch (f) {}
    }
  }
  function rid() {
    var a = new Uint8Array(16), s = "";
    w.crypto.getRandomValues(a);
    for (var i = 0; i < a.length; i++) s += (a[i] + 256).toString(16).slice(1);
    return s;
  }
  function cat(k) { for (var i = 0; i < C.c.length; i++) if (C.c[i].k == k) return C.c[i]; }
  function allowed(k) { var c = cat(k); return !!c && (c.r || (ok && !!S.c[k])); }

  function activate() {
    var list = Array.prototype.filter.call(
      d.querySelectorAll('script[type="text/plain"][data-category]'),
      function (s) { return allowed(s.getAttribute("data-category")); });
    list.forEach(function (s) { s.type = "text/x-jagadata"; });
    // One after the other, in page order, as they would have run without the banner.
    (function next(i) {
      var s = list[i];
      if (!s) return;
      var n = d.createElement("script"), wait = s.src && !s.hasAttribute("async");
      for (var j = 0; j < s.attributes.length; j++) {
        var a = s.attributes[j];
        if (a.name != "type") n.setAttribute(a.name, a.value);
      }
      if (wait) { n.async = false; n.onload = n.onerror = function () { next(i + 1); }; }
      n.text = s.text;
      s.parentNode.replaceChild(n, s);
      if (!wait) next(i + 1);
    })(0);
  }
  function clear(k) {
    var names = (cat(k) || {}).x || [], jar = [];
    try { jar = d.cookie ? d.cookie.split("; ") : []; } catch (e) {}
    jar.forEach(function (e) {
      var n = e.split("=")[0];
      names.forEach(function (p) {
        var star = p.slice(-1) == "*";
        if (star ? n.indexOf(p.slice(0, -1)) == 0 : n == p) drop(n);
      });
    });
  }
  function drop(n) {
    var h = w.location.hostname.split(".");
    for (var i = 0; i <= h.length; i++) {
      var dom = i < h.length ? ";domain=" + h.slice(i).join(".") : "";
      d.cookie = n + "=;expires=Thu, 01 Jan 1970 00:00:00 GMT;path=/" + dom;
    }
  }
  function consentMode(m) {
    if (!C.g) return;
    w.dataLayer = w.dataLayer || [];
    var g = function (k) { return m != "default" && allowed(k) ? "granted" : "denied"; };
    var v = {
      ad_storage: g("marketing"), ad_user_data: g("marketing"),
      ad_personalization: g("marketing"), analytics_storage: g("analytics"),
      functionality_storage: g("preference"), personalization_storage: g("preference"),
      security_storage: "granted"
    };
    if (m == "default") v.wait_for_update = 500;
    (function () { w.dataLayer.push(arguments); })("consent", m, v);
  }
  function apply() {
    C.c.forEach(function (c) { if (!allowed(c.k)) clear(c.k); });
    activate();
  }

  function send() {
    if (!S || !S.p || !w.fetch) return;
    w.fetch(C.api, {
      method: "POST", mode: "cors", keepalive: true,
      headers: { "Content-Type": "application/json" }, body: JSON.stringify(S.p)
    }).then(function (r) {
      if (r.status >= 500 || r.status == 429) return;
      // Refused (a newer version came into force while the banner was open): ask again.
      if (r.status == 422) S.e = 0;
      delete S.p;
      save();
    }, function () {});
  }
  function decide(c) {
    var before = ok ? S.c : {}, choices = [];
    C.c.forEach(function (x) { if (!x.r) choices.push({ category: x.k, allowed: !!c[x.k] }); });
    S = { i: (S && S.i) || "anon_" + rid(), e: C.e, c: c };
    ok = true;
    if (choices.length) S.p = {
      consent_id: S.i, choice_id: rid(), language: L, manifest_version: C.v, gpc: G,
      choices: choices
    };
    save();
    for (var k in before) if (before[k] && !c[k]) clear(k);
    send();
    consentMode("update");
    apply();
    hide();
    try { w.dispatchEvent(new CustomEvent("jagadata:consent", { detail: c })); } catch (e) {}
  }
  function every(v) {
    var c = {};
    C.c.forEach(function (x) { if (!x.r) c[x.k] = v; });
    return c;
  }

  function el(t, a, text) {
    var e = d.createElement(t);
    for (var k in a) e.setAttribute(k, a[k]);
    if (text != null) e.textContent = text;
    return e;
  }
  function button(a, text) {
    var b = el("button", { type: "button", "class": "jd-btn", "data-a": a }, text);
    return b;
  }
  function focusables() {
    return Array.prototype.filter.call(
      dlg.querySelectorAll("button,input:not([disabled]),a[href]"),
      function (e) { return e.offsetParent !== null; });
  }
  function css() {
    if (!styled) { styled = 1; d.head.appendChild(el("style", {}, C.css)); }
  }
  function build() {
    css();
    box = el("div", { "class": "jd-o", hidden: "" });
    dlg = el("div", {
      "class": "jd-b", role: "dialog", "aria-modal": "true", "aria-labelledby": "jd-t",
      "aria-describedby": "jd-d", lang: L, tabindex: "-1"
    });
    dlg.appendChild(el("h2", { id: "jd-t" }, T.title));
    dlg.appendChild(el("p", { id: "jd-d" }, T.intro));
    if (G) dlg.appendChild(el("p", { "class": "jd-i" }, T.gpc));
    var list = el("div", { "class": "jd-cs", hidden: "" });
    C.c.forEach(function (c) {
      var box2 = el("div", { "class": "jd-c" }), lab = el("label", {});
      var input = el("input", { type: "checkbox", id: "jd-k-" + c.k, "data-k": c.k });
      if (c.r) { input.checked = true; input.disabled = true; }
      lab.appendChild(input);
      lab.appendChild(d.createTextNode(" " + c.n[L] + (c.r ? " (" + T.always + ")" : "")));
      box2.appendChild(lab);
      if (c.d[L]) box2.appendChild(el("p", {}, c.d[L]));
      box2.appendChild(el("p", { "class": "jd-i" }, c.i[L]));
      list.appendChild(box2);
    });
    dlg.appendChild(list);
    var acts = el("div", { "class": "jd-a" });
    acts.appendChild(button("r", T.reject));
    acts.appendChild(button("c", T.choose));
    acts.appendChild(button("a", T.accept));
    dlg.appendChild(acts);
    var foot = el("p", { "class": "jd-f" });
    foot.appendChild(el("a", { href: C.p, target: "_blank", rel: "noopener" }, T.policy));
    foot.appendChild(d.createTextNode(" \u00b7 " + T.law));
    dlg.appendChild(foot);
    dlg.appendChild(el("button", { type: "button", "class": "jd-x", "aria-label": T.close, "data-a": "x" }, "\u00d7"));
    box.appendChild(dlg);
    d.body.appendChild(box);
    dlg.addEventListener("click", function (e) {
      var a = e.target.getAttribute && e.target.getAttribute("data-a");
      if (a == "a") decide(every(true));
      else if (a == "r") decide(every(false));
      else if (a == "x") hide();
      else if (a == "c") {
        list.hidden = false;
        e.target.setAttribute("data-a", "s");
        e.target.textContent = T.save;
        var f = list.querySelector("input:not([disabled])");
        if (f) f.focus();
      } else if (a == "s") {
        var c = {};
        Array.prototype.forEach.call(list.querySelectorAll("input[data-k]"), function (i) {
          if (!cat(i.getAttribute("data-k")).r) c[i.getAttribute("data-k")] = i.checked;
        });
        decide(c);
      }
    });
    dlg.addEventListener("keydown", function (e) {
      if (e.key == "Escape") { e.preventDefault(); hide(); return; }
      if (e.key != "Tab") return;
      var f = focusables(), first = f[0], end = f[f.length - 1];
      if (e.shiftKey && (d.activeElement == first || d.activeElement == dlg)) {
        e.preventDefault(); end.focus();
      } else if (!e.shiftKey && d.activeElement == end) {
        e.preventDefault(); first.focus();
      }
    });
  }
  function open() {
    if (!box) build();
    last = d.activeElement;
    Array.prototype.forEach.call(dlg.querySelectorAll("input[data-k]"), function (i) {
      i.checked = allowed(i.getAttribute("data-k"));
    });
    box.hidden = false;
    if (btn) btn.hidden = true;
    dlg.focus();
  }
  function hide() {
    if (!box || box.hidden) return;
    box.hidden = true;
    showButton();
    if (last && last !== d.body && last.focus && d.contains(last)) last.focus();
    else btn.focus();
  }
  function showButton() {
    if (!btn) {
      css();
      btn = el("button", { type: "button", "class": "jd-s", "aria-haspopup": "dialog" }, T.settings);
      btn.addEventListener("click", open);
      d.body.appendChild(btn);
    }
    btn.hidden = false;
  }

  consentMode("default");
  if (ok) consentMode("update");
  w.jagadata = {
    openBanner: open,
    allowed: allowed,
    consentId: function () { return S && S.i; }
  };
  function start() {
    d.addEventListener("click", function (e) {
      var t = e.target.closest && e.target.closest("[data-jagadata-open]");
      if (t) { e.preventDefault(); open(); }
    });
    apply();
    send();
    if (!C.c.some(function (x) { return !x.r; })) return;
    if (ok || G) showButton();
    else open();
  }
  if (d.readyState == "loading") d.addEventListener("DOMContentLoaded", start);
  else start();
})(window, document);
