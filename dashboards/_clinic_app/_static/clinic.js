// insole clinic: the only script of the app. On a running test's page it asks the server for the test's
// status every second, shows it (as text), and goes back to the visit when the test has been stored.
"use strict";
(function () {
  const run = document.getElementById("run");
  if (!run || !document.getElementById("stop")) { return; }
  const statusUrl = run.dataset.statusUrl;
  const visitUrl = run.dataset.visitUrl;
  const show = (id, text) => { const el = document.getElementById(id); if (el) { el.textContent = text || ""; } };
  async function poll() {
    try {
      const reply = await fetch(statusUrl, { credentials: "same-origin", cache: "no-store" });
      const state = await reply.json();
      show("run-status", state.status);
      show("run-phase", state.phase);
      show("run-message", state.message);
      if (state.status === "done" || state.status === "failed" || state.status === "unknown") {
        window.location.assign(visitUrl);
        return;
      }
    } catch (error) {
      show("run-message", "the app does not answer (" + error + "); it may have been closed");
    }
    window.setTimeout(poll, 1000);
  }
  window.setTimeout(poll, 1000);
})();
