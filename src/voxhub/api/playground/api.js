// voxhub's public API as the playground calls it: same-origin paths only, the pasted key in
// the x-api-key header, errors turned into ApiError from the error envelope.

export class ApiError extends Error {
  constructor(status, code, message, param) {
    super(message);
    this.status = status;
    this.code = code;
    this.param = param;
  }
}

// Creates are retried safely by the server with the same key; crypto.randomUUID exists only in
// secure contexts, so the key is made from getRandomValues (available everywhere).
function idempotencyKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export function createApi(currentKey) {
  async function call(method, path, { json, form, idempotent = false } = {}) {
    const headers = { "x-api-key": currentKey() };
    let body;
    if (json !== undefined) {
      headers["content-type"] = "application/json";
      body = JSON.stringify(json);
    } else if (form !== undefined) {
      body = form;
    }
    if (idempotent) headers["idempotency-key"] = idempotencyKey();
    const response = await fetch(path, {
      method, headers, body, credentials: "omit", cache: "no-store", referrerPolicy: "no-referrer",
    });
    const payload = await response.json().catch(() => null);
    if (!response.ok) {
      const error = (payload && payload.error) || {};
      throw new ApiError(
        response.status,
        error.code || "http_error",
        error.message || `The server answered ${response.status}.`,
        error.param || null,
      );
    }
    return payload;
  }

  return {
    listVoices({ type, language, gender, token, limit = 24 }) {
      const query = new URLSearchParams({ type, limit: String(limit) });
      if (language) query.set("language", language);
      if (gender) query.set("gender", gender);
      if (token) query.set("token", token);
      return call("GET", `/v3/voices?${query}`);
    },
    getVoice(voiceId) {
      return call("GET", `/v3/voices/${encodeURIComponent(voiceId)}`).then((r) => r.data);
    },
    async uploadAsset(blob, filename) {
      const form = new FormData();
      form.append("file", blob, filename);
      return (await call("POST", "/v3/assets", { form, idempotent: true })).data;
    },
    async cloneVoice({ assetId, voiceName, language }) {
      const json = { audio: { type: "asset_id", asset_id: assetId }, voice_name: voiceName };
      if (language) json.language = language;
      return (await call("POST", "/v3/voices/clone", { json, idempotent: true })).data;
    },
    async speak({ voiceId, text }) {
      const json = { voice_id: voiceId, text };
      return (await call("POST", "/v3/voices/speech", { json })).data;
    },
  };
}
