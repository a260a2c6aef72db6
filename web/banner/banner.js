// The cookie banner an organisation's pages embed (served by custos as <centre>banner.js, after
// vanilla-cookieconsent's own script, which defines window.CookieConsent). It:
// - reads the categories, words and notice version custos serves from the policy
//   (<centre>cookies/config), so the banner says what the notice says;
// - honours Global Privacy Control (navigator.globalPrivacyControl, or the Sec-GPC header the
//   server saw): categories used for targeting are refused, locked off, and the visitor is told;
// - records every choice in custos's consent ledger (<centre>cookies/choices), where the
//   engine applies the same GPC rule again: the page never decides alone.
// No inline script or style, no eval: it runs under a strict Content-Security-Policy.
'use strict';
(function custosBanner() {
  const script = document.currentScript;
  if (!script || !window.CookieConsent) return;
  const centre = new URL('.', script.src).href;

  const escape = (text) => String(text).replace(/[&<>"']/g, (c) => ({
    '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;',
  })[c]);

  function record(config, gpc, how) {
    const accepted = [];
    const rejected = [];
    for (const category of config.categories) {
      if (!category.consent_required) continue;
      const on = window.CookieConsent.acceptedCategory(category.key) && !(gpc && category.targeting);
      (on ? accepted : rejected).push(category.key);
    }
    return fetch(centre + 'cookies/choices', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ accepted, rejected, how }),
    }).then((response) => {
      document.documentElement.dataset.custosConsent = response.ok ? 'recorded' : 'failed';
    }).catch(() => {
      document.documentElement.dataset.custosConsent = 'failed';
    });
  }

  function run(config) {
    const gpc = navigator.globalPrivacyControl === true || config.gpc_header === true;
    const t = config.text;
    const refused = config.categories.filter((c) => gpc && c.targeting);
    const gpcLine = refused.length === 0 ? '' :
      '<span class="custos-gpc" role="note">' + escape(t.gpc) +
      escape(refused.map((c) => c.name).join(', ')) + '.</span>';
    const categories = {};
    const sections = [{ description: escape(t.text) + gpcLine }];
    for (const c of config.categories) {
      const locked = !c.consent_required || (gpc && c.targeting);
      categories[c.key] = { enabled: !c.consent_required, readOnly: locked };
      let about = escape(c.description);
      if (!c.consent_required) about += '<br>' + escape(t.always_on);
      if (c.duration) about += '<br>' + escape(t.duration) + escape(c.duration);
      if (c.third_parties.length) about += '<br>' + escape(t.third_parties) + escape(c.third_parties.join(', '));
      sections.push({ title: escape(c.name), description: about, linkedCategory: c.key });
    }
    sections.push({ description: '<a href="' + escape(config.notice_url) + '">' + escape(t.notice_link) + '</a>' });

    window.CookieConsent.run({
      // A new notice version asks again.
      revision: config.revision,
      cookie: { name: 'custos_banner', sameSite: 'Lax' },
      // Shown to every browser, automated ones too: the choice is the visitor's, not a guess.
      hideFromBots: false,
      guiOptions: {
        consentModal: { layout: 'box', position: 'bottom left', equalWeightButtons: true },
        preferencesModal: { layout: 'box', equalWeightButtons: true },
      },
      categories,
      onFirstConsent: () => record(config, gpc, 'first'),
      onChange: () => record(config, gpc, 'change'),
      onConsent: () => {
        // A choice made before GPC was switched on: the targeting categories go off now.
        const stale = refused.filter((c) => window.CookieConsent.acceptedCategory(c.key));
        if (stale.length) {
          const keep = config.categories
            .filter((c) => window.CookieConsent.acceptedCategory(c.key) && !(gpc && c.targeting))
            .map((c) => c.key);
          window.CookieConsent.acceptCategory(keep);
        }
      },
      language: {
        default: 'en',
        translations: {
          en: {
            consentModal: {
              title: escape(t.title),
              description: escape(t.text) + gpcLine,
              acceptAllBtn: escape(t.accept_all),
              acceptNecessaryBtn: escape(t.reject_all),
              showPreferencesBtn: escape(t.settings),
            },
            preferencesModal: {
              title: escape(t.preferences_title),
              acceptAllBtn: escape(t.accept_all),
              acceptNecessaryBtn: escape(t.reject_all),
              savePreferencesBtn: escape(t.save),
              closeIconLabel: escape(t.close),
              sections,
            },
          },
        },
      },
    });
    document.documentElement.dataset.custosGpc = gpc ? 'on' : 'off';
  }

  fetch(centre + 'cookies/config', { credentials: 'same-origin' })
    .then((response) => response.json())
    .then(run)
    .catch(() => { document.documentElement.dataset.custosConsent = 'unavailable'; });
})();
