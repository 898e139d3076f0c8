// The playground's page logic: key, voice browser, cloning (upload or microphone) and speech
// with the current word highlighted. Plain ES modules, no framework, nothing fetched from
// anywhere but this server.
import { ApiError, createApi } from "/playground/api.js";
import { displayWords, wordAt } from "/playground/words.js";

const KEY_NAME = "voxhub.playground.apiKey";
const $ = (id) => document.getElementById(id);

let apiKey = sessionStorage.getItem(KEY_NAME) || localStorage.getItem(KEY_NAME) || "";
const api = createApi(() => apiKey);
const knownVoices = new Map(); // voice_id -> voice, for the speech voice menu

class CloneFailed extends Error {}

function say(element, message, kind = "") {
  element.textContent = message;
  element.classList.toggle("error", kind === "error");
  element.classList.toggle("ok", kind === "ok");
}

function explain(error) {
  if (error instanceof CloneFailed) return error.message;
  if (error instanceof ApiError) {
    if (error.status === 401) return "The key was refused: check it in step 1.";
    return error.param ? `${error.message} (${error.param})` : error.message;
  }
  return `The request failed: ${error.message}`;
}

function needKey(statusElement) {
  if (apiKey) return true;
  say(statusElement, "Paste your API key in step 1 first.", "error");
  $("api-key").focus();
  return false;
}

// ---- 1. key -------------------------------------------------------------------------------

function storeKey(key, remember) {
  sessionStorage.removeItem(KEY_NAME);
  localStorage.removeItem(KEY_NAME);
  if (key) (remember ? localStorage : sessionStorage).setItem(KEY_NAME, key);
  apiKey = key;
}

function setUpKey() {
  $("api-key").value = apiKey;
  $("remember-key").checked = localStorage.getItem(KEY_NAME) !== null;
  $("key-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    storeKey($("api-key").value.trim(), $("remember-key").checked);
    await checkKey();
  });
  $("forget-key").addEventListener("click", () => {
    storeKey("", false);
    $("api-key").value = "";
    say($("key-status"), "The key is forgotten by this browser.");
  });
}

async function checkKey() {
  const status = $("key-status");
  if (!needKey(status)) return;
  say(status, "Checking the key…");
  try {
    await api.listVoices({ type: "public", limit: 1 });
    say(status, "The key works.", "ok");
    await showVoices();
  } catch (error) {
    say(status, explain(error), "error");
  }
}

// ---- 2. voices ----------------------------------------------------------------------------

let nextToken = null;

function filters() {
  return {
    type: $("filter-type").value,
    language: $("filter-language").value.trim(),
    gender: $("filter-gender").value,
  };
}

function rememberVoice(voice) {
  knownVoices.set(voice.voice_id, voice);
  const menu = $("speak-voice");
  let option = menu.querySelector(`option[value="${CSS.escape(voice.voice_id)}"]`);
  if (!option) {
    option = document.createElement("option");
    option.value = voice.voice_id;
    menu.append(option);
  }
  option.disabled = voice.status !== null && voice.status !== undefined && voice.status !== "complete";
  option.textContent = `${voice.name} — ${voice.language}${voice.status ? " (clone)" : ""}`;
  const placeholder = menu.querySelector('option[value=""]');
  if (placeholder) placeholder.remove();
}

function chooseForSpeech(voiceId) {
  $("speak-voice").value = voiceId;
}

function playPreview(voice, button) {
  const player = $("preview-player");
  player.hidden = false;
  player.src = voice.preview_audio_url;
  player.setAttribute("aria-label", `Preview of ${voice.name}`);
  player.play().catch(() => {});
  say($("voices-status"), `Playing the preview of ${voice.name}.`);
  button.focus();
}

function voiceItem(voice) {
  const item = document.createElement("li");
  const name = document.createElement("span");
  name.className = "name";
  name.textContent = voice.name;
  const meta = document.createElement("span");
  meta.className = "muted small";
  meta.textContent = [voice.language, voice.gender, voice.status].filter(Boolean).join(" · ");
  const actions = document.createElement("div");
  actions.className = "actions";
  const preview = document.createElement("button");
  preview.type = "button";
  preview.className = "secondary";
  preview.textContent = voice.preview_audio_url ? "Play preview" : "No preview yet";
  preview.disabled = !voice.preview_audio_url;
  preview.setAttribute("aria-label", `Play the preview of ${voice.name}`);
  preview.addEventListener("click", () => playPreview(voice, preview));
  const use = document.createElement("button");
  use.type = "button";
  use.textContent = "Speak with it";
  use.disabled = Boolean(voice.status) && voice.status !== "complete";
  use.setAttribute("aria-label", `Speak with ${voice.name}`);
  use.addEventListener("click", () => {
    chooseForSpeech(voice.voice_id);
    $("speak-text").focus();
  });
  actions.append(preview, use);
  item.append(name, meta, actions);
  return item;
}

async function showVoices({ more = false } = {}) {
  const status = $("voices-status");
  if (!needKey(status)) return;
  const list = $("voice-list");
  say(status, "Loading voices…");
  list.setAttribute("aria-busy", "true");
  try {
    const page = await api.listVoices({ ...filters(), token: more ? nextToken : undefined });
    if (!more) list.replaceChildren();
    for (const voice of page.data) {
      list.append(voiceItem(voice));
      rememberVoice(voice);
    }
    nextToken = page.has_more ? page.next_token : null;
    $("more-voices").hidden = nextToken === null;
    const shown = list.children.length;
    say(status, shown === 0 ? "No voice matches these filters." : `${shown} voices shown${nextToken ? ", more available" : ""}.`);
  } catch (error) {
    say(status, explain(error), "error");
  } finally {
    list.removeAttribute("aria-busy");
  }
}

function setUpVoices() {
  $("voice-filters").addEventListener("submit", (event) => {
    event.preventDefault();
    showVoices();
  });
  $("more-voices").addEventListener("click", () => showVoices({ more: true }));
}

// ---- 3. clone -----------------------------------------------------------------------------

let sample = null; // { blob, filename }
let sampleUrl = null;
let recorder = null;

function useSample(blob, filename, origin) {
  sample = { blob, filename };
  if (sampleUrl) URL.revokeObjectURL(sampleUrl);
  sampleUrl = URL.createObjectURL(blob);
  const player = $("sample-player");
  player.src = sampleUrl;
  player.hidden = false;
  $("sample-info").textContent = `Sample: ${filename} (${Math.max(1, Math.round(blob.size / 1024))} KB, ${origin}).`;
}

async function startRecording() {
  const info = $("sample-info");
  if (!navigator.mediaDevices || !window.MediaRecorder) {
    info.textContent = "Recording needs a browser with MediaRecorder, on https or localhost.";
    return;
  }
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ audio: true });
  } catch (error) {
    info.textContent = `The microphone is not available: ${error.message}`;
    return;
  }
  const chunks = [];
  recorder = new MediaRecorder(stream);
  recorder.addEventListener("dataavailable", (event) => chunks.push(event.data));
  recorder.addEventListener("stop", () => {
    stream.getTracks().forEach((track) => track.stop());
    const type = recorder.mimeType || "audio/webm";
    const extension = type.includes("ogg") ? "ogg" : type.includes("mp4") ? "m4a" : "webm";
    useSample(new Blob(chunks, { type }), `recording.${extension}`, "recorded");
    recorder = null;
    $("record-start").disabled = false;
    $("record-stop").disabled = true;
    $("record-start").focus();
  });
  recorder.start();
  $("record-start").disabled = true;
  $("record-stop").disabled = false;
  $("record-stop").focus();
  info.textContent = "Recording… read a few sentences aloud, then stop.";
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function watchClone(voiceId, name) {
  const status = $("clone-status");
  const started = performance.now();
  let delay = 1000;
  for (;;) {
    const voice = await api.getVoice(voiceId);
    const seconds = Math.round((performance.now() - started) / 1000);
    if (voice.status === "complete") return voice;
    if (voice.status === "failed") {
      throw new CloneFailed(`The clone failed: ${voice.failure_message}`);
    }
    say(status, `“${name}” is processing… ${seconds} s`);
    await sleep(delay);
    delay = Math.min(delay * 1.5, 4000);
  }
}

function showClone(voice) {
  $("clone-result").hidden = false;
  $("clone-result-name").textContent = voice.name;
  $("clone-result-meta").textContent = `${voice.language} · ${voice.gender} · ${voice.voice_id}`;
  if (voice.preview_audio_url) $("clone-preview").src = voice.preview_audio_url;
  rememberVoice(voice);
  chooseForSpeech(voice.voice_id);
}

async function createClone(event) {
  event.preventDefault();
  const status = $("clone-status");
  if (!needKey(status)) return;
  if (!sample) {
    say(status, "Choose a file or record a sample first.", "error");
    $("clone-file").focus();
    return;
  }
  const name = $("clone-name").value.trim();
  const submit = $("clone-submit");
  submit.disabled = true;
  $("clone-result").hidden = true;
  try {
    say(status, "Uploading the sample…");
    const asset = await api.uploadAsset(sample.blob, sample.filename);
    say(status, "Starting the clone…");
    const created = await api.cloneVoice({
      assetId: asset.asset_id, voiceName: name, language: $("clone-language").value.trim(),
    });
    const voice = await watchClone(created.voice_clone_id, name);
    showClone(voice);
    say(status, `“${voice.name}” is ready: hear its preview below, or speak with it in step 4.`, "ok");
  } catch (error) {
    say(status, explain(error), "error");
  } finally {
    submit.disabled = false;
  }
}

function setUpClone() {
  $("clone-file").addEventListener("change", () => {
    const file = $("clone-file").files[0];
    if (file) useSample(file, file.name, "uploaded");
  });
  $("record-start").addEventListener("click", startRecording);
  $("record-stop").addEventListener("click", () => recorder && recorder.stop());
  $("clone-form").addEventListener("submit", createClone);
}

// ---- 4. speak -----------------------------------------------------------------------------

let spokenWords = []; // [{ element, start }]
let highlighted = -1;
let frame = 0;

function showTranscript(text, timestamps) {
  const transcript = $("transcript");
  transcript.replaceChildren();
  spokenWords = [];
  highlighted = -1;
  if (!timestamps || timestamps.length === 0) {
    transcript.textContent = text;
    return false;
  }
  displayWords(text, timestamps).forEach((word, index) => {
    const span = document.createElement("span");
    span.className = "word";
    span.textContent = word;
    transcript.append(span, " ");
    spokenWords.push({ element: span, start: timestamps[index].start });
  });
  return true;
}

function highlight(index) {
  if (index === highlighted) return;
  if (highlighted >= 0) spokenWords[highlighted].element.classList.remove("current");
  if (index >= 0) spokenWords[index].element.classList.add("current");
  highlighted = index;
}

function follow() {
  const player = $("speech-player");
  highlight(wordAt(spokenWords, player.currentTime));
  if (!player.paused && !player.ended) frame = requestAnimationFrame(follow);
}

async function speak(event) {
  event.preventDefault();
  const status = $("speak-status");
  if (!needKey(status)) return;
  const voiceId = $("speak-voice").value;
  const text = $("speak-text").value;
  if (!voiceId) {
    say(status, "Choose a voice (show voices in step 2).", "error");
    return;
  }
  const submit = $("speak-submit");
  submit.disabled = true;
  say(status, "Speaking…");
  try {
    const speech = await api.speak({ voiceId, text });
    const aligned = showTranscript(text, speech.word_timestamps);
    const player = $("speech-player");
    player.hidden = false;
    player.src = speech.audio_url;
    const voice = knownVoices.get(voiceId);
    const who = voice ? voice.name : voiceId;
    say(status, `${speech.duration.toFixed(1)} s in ${who}${aligned ? "" : " (this voice gives no word timings)"}.`, "ok");
    await player.play().catch(() => {
      say(status, "Press play to listen.", "ok");
    });
  } catch (error) {
    say(status, explain(error), "error");
  } finally {
    submit.disabled = false;
  }
}

function setUpSpeech() {
  const player = $("speech-player");
  player.addEventListener("play", () => {
    cancelAnimationFrame(frame);
    frame = requestAnimationFrame(follow);
  });
  player.addEventListener("seeked", follow);
  player.addEventListener("ended", () => highlight(-1));
  $("speak-form").addEventListener("submit", speak);
}

setUpKey();
setUpVoices();
setUpClone();
setUpSpeech();
if (apiKey) showVoices();
