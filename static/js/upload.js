// The upload page: sends the picked file with tus-js-client to the portal's tus server.
// The server is the source of truth for the offset: a resumed upload starts with a HEAD
// (tus-js-client does it), and the server's registry of unfinished uploads (matched by
// size and a fingerprint of the first and last MiB) lets a reload, another browser or a
// restarted one continue the same upload.
(function () {
  "use strict";
  const form = document.querySelector("[data-upload-form]");
  if (!form || !window.tus) return;

  const $ = (sel) => form.querySelector(sel);
  const fileInput = $("#upload-file");
  const bar = $("#upload-bar");
  const figures = $("#upload-figures");
  const status = $("#upload-status");
  const resumeBox = $("#upload-resume");
  const buttons = {
    start: $('[data-action="start"]'),
    pause: $('[data-action="pause"]'),
    resume: $('[data-action="resume"]'),
    cancel: $('[data-action="cancel"]'),
  };
  const MiB = 1024 * 1024;
  let upload = null;
  let fingerprint = "";
  let resumeUrl = null;
  let rate = { at: 0, bytes: 0, value: 0 };

  function say(text) { status.textContent = text; }
  function human(bytes) {
    const units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let i = 0;
    while (bytes >= 1024 && i < units.length - 1) { bytes /= 1024; i++; }
    return bytes.toFixed(i ? 1 : 0) + " " + units[i];
  }
  function duration(s) {
    if (!isFinite(s)) return "–";
    s = Math.round(s);
    const m = Math.floor(s / 60);
    return m ? m + " min " + (s % 60) + " s" : s + " s";
  }
  function state(running) {
    buttons.start.disabled = running !== null;
    buttons.pause.disabled = running !== true;
    buttons.resume.disabled = running !== false;
    buttons.cancel.disabled = running === null;
    fileInput.disabled = running !== null;
  }

  async function fingerprintOf(file) {
    // Secure contexts only (HTTPS or loopback); elsewhere the server matches by name+size.
    if (!window.crypto || !crypto.subtle) return "";
    const head = await file.slice(0, MiB).arrayBuffer();
    const tail = await file.slice(Math.max(0, file.size - MiB)).arrayBuffer();
    const all = new Uint8Array(head.byteLength + tail.byteLength);
    all.set(new Uint8Array(head), 0);
    all.set(new Uint8Array(tail), head.byteLength);
    const digest = await crypto.subtle.digest("SHA-256", all);
    const hex = Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
    return "sha256-" + file.size + "-" + hex;
  }

  fileInput.addEventListener("change", async () => {
    resumeUrl = null;
    resumeBox.hidden = true;
    const file = fileInput.files[0];
    if (!file) return;
    if (file.size > Number(form.dataset.maxSize)) {
      say("This file is larger than the maximum upload size.");
      return;
    }
    fingerprint = await fingerprintOf(file);
    const params = new URLSearchParams({ size: file.size, fingerprint, filename: file.name });
    const resp = await fetch(form.dataset.unfinishedUrl + "?" + params, { credentials: "same-origin" });
    if (!resp.ok) return;
    const match = (await resp.json()).uploads[0];
    if (!match) return;
    resumeUrl = match.url;
    $("#upload-resume-text").textContent =
      "You started uploading this file as “" + match.name + "”: " + human(match.offset) +
      " of " + human(match.length) + " (" + match.percent + "%) are stored on the server.";
    resumeBox.hidden = false;
    bar.value = match.percent;
  });

  $('[data-action="continue"]').addEventListener("click", () => {
    resumeBox.hidden = true;
    start(resumeUrl);
  });
  $('[data-action="fresh"]').addEventListener("click", () => {
    resumeUrl = null;
    resumeBox.hidden = true;
    bar.value = 0;
  });

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (!fileInput.files[0]) { say("Choose a file first."); return; }
    start(resumeUrl);
  });

  function errorText(err) {
    const resp = err.originalResponse;
    if (resp && resp.getBody()) return resp.getBody();
    return "The upload stopped: " + (err.message || err);
  }

  function start(url) {
    const file = fileInput.files[0];
    const fields = new FormData(form);
    fields.delete("file");
    upload = new tus.Upload(file, {
      endpoint: form.dataset.endpoint,
      uploadUrl: url || null,
      chunkSize: Number(form.dataset.chunkSize),
      retryDelays: [0, 1000, 3000, 5000, 10000, 20000],
      storeFingerprintForResuming: false, // the server's registry does this job
      headers: { "X-CSRFToken": form.dataset.csrf },
      metadata: {
        filename: file.name,
        filetype: file.type || "application/octet-stream",
        fingerprint: fingerprint,
        form: new URLSearchParams(fields).toString(),
      },
      onProgress(sent, total) {
        const now = performance.now();
        if (!rate.at) rate = { at: now, bytes: sent, value: 0 };
        else if (now - rate.at >= 1000) {
          rate = { at: now, bytes: sent, value: ((sent - rate.bytes) * 1000) / (now - rate.at) };
        }
        bar.value = Math.floor((sent * 100) / total);
        bar.textContent = bar.value + "%";
        figures.textContent = human(sent) + " of " + human(total) +
          (rate.value ? " · " + human(rate.value) + "/s · " + duration((total - sent) / rate.value) + " left" : "");
      },
      onChunkComplete(chunk, accepted, total) {
        say(human(accepted) + " of " + human(total) + " stored on the server.");
      },
      onError(err) {
        state(false);
        say(errorText(err));
      },
      onSuccess(payload) {
        state(null);
        const resp = payload.lastResponse;
        const problem = resp.getHeader("Imsportal-Error");
        const jobUrl = resp.getHeader("Imsportal-Job");
        if (problem) { say(problem); return; }
        bar.value = 100;
        say("Upload complete; a worker is sending it to the cloud.");
        if (jobUrl) {
          const link = document.createElement("a");
          link.href = jobUrl;
          link.textContent = "Follow the job";
          link.id = "upload-job-link";
          status.append(" ", link);
        }
      },
    });
    rate = { at: 0, bytes: 0, value: 0 };
    state(true);
    say(url ? "Asking the server where to continue…" : "Starting the upload…");
    upload.start();
  }

  buttons.pause.addEventListener("click", () => {
    if (!upload) return;
    upload.abort(); // keeps the upload on the server; Resume asks for its offset (HEAD)
    state(false);
    say("Paused. The server keeps what it confirmed.");
  });
  buttons.resume.addEventListener("click", () => {
    if (!upload) return;
    state(true);
    say("Resuming from the offset the server confirms…");
    upload.start();
  });
  buttons.cancel.addEventListener("click", async () => {
    if (!upload || !window.confirm("Cancel this upload and delete what was sent?")) return;
    try {
      await upload.abort(true); // tus termination: DELETE on the server
      say("Cancelled; the server deleted the partial file.");
    } catch (err) {
      say(errorText(err));
    }
    upload = null;
    resumeUrl = null;
    bar.value = 0;
    figures.textContent = "";
    state(null);
  });
  state(null);
})();
