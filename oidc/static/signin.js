// The provider's sign-in page: sign in with a passkey (or create an
// account with one) through passkeyd's JSON API, then reload: the login
// step sees the new session and continues to the app.
const base = document.body.dataset.base || "";
const form = document.getElementById("signin");
const message = document.getElementById("message");
const emailInput = document.getElementById("email");

async function api(path, body) {
  const res = await fetch(base + path, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
    credentials: "same-origin",
  });
  const json = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(json.error || "The request failed (" + res.status + ").");
  return json;
}

// base64url helpers, for browsers without the WebAuthn JSON methods.
function fromB64url(s) {
  const b = atob(s.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((s.length + 3) % 4));
  return Uint8Array.from(b, (c) => c.charCodeAt(0)).buffer;
}
function toB64url(buf) {
  return btoa(String.fromCharCode(...new Uint8Array(buf))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}
function withIds(list) {
  return (list || []).map((c) => Object.assign({}, c, { id: fromB64url(c.id) }));
}

function requestOptions(json) {
  if (typeof PublicKeyCredential.parseRequestOptionsFromJSON === "function") {
    return PublicKeyCredential.parseRequestOptionsFromJSON(json);
  }
  return Object.assign({}, json, { challenge: fromB64url(json.challenge), allowCredentials: withIds(json.allowCredentials) });
}

function creationOptions(json) {
  if (typeof PublicKeyCredential.parseCreationOptionsFromJSON === "function") {
    return PublicKeyCredential.parseCreationOptionsFromJSON(json);
  }
  return Object.assign({}, json, {
    challenge: fromB64url(json.challenge),
    user: Object.assign({}, json.user, { id: fromB64url(json.user.id) }),
    excludeCredentials: withIds(json.excludeCredentials),
  });
}

function credentialJSON(cred) {
  if (typeof cred.toJSON === "function") return cred.toJSON();
  const r = cred.response;
  const out = { id: cred.id, rawId: toB64url(cred.rawId), type: cred.type, clientExtensionResults: cred.getClientExtensionResults(), response: { clientDataJSON: toB64url(r.clientDataJSON) } };
  if (r.attestationObject) {
    out.response.attestationObject = toB64url(r.attestationObject);
    out.response.transports = typeof r.getTransports === "function" ? r.getTransports() : [];
  } else {
    out.response.authenticatorData = toB64url(r.authenticatorData);
    out.response.signature = toB64url(r.signature);
    if (r.userHandle) out.response.userHandle = toB64url(r.userHandle);
  }
  return out;
}

async function signIn(email) {
  const options = await api("/api/passkeys/generate-authentication-options", email ? { email } : {});
  const credential = await navigator.credentials.get({ publicKey: requestOptions(options) });
  await api("/api/passkeys/verify-authentication", credentialJSON(credential));
}

// signUp creates the account with a passkey. As on passkeyd's own start
// page, creating an account does not sign in: the user signs in with the
// new passkey next, which proves it works.
async function signUp(email) {
  if (!email) throw new Error("Please enter your email address to create an account.");
  const options = await api("/api/passkeys/generate-registration-options", { email });
  const credential = await navigator.credentials.create({ publicKey: creationOptions(options) });
  await api("/api/passkeys/verify-registration", credentialJSON(credential));
  return "Account created. Now sign in with your new passkey.";
}

// run runs a step with the buttons disabled; a step that returns a
// message stays on the page, one that returns nothing reloads it, which
// continues to the app.
async function run(action) {
  message.textContent = "";
  message.setAttribute("role", "alert");
  const buttons = form.querySelectorAll("button");
  for (const b of buttons) b.disabled = true;
  try {
    const done = await action(emailInput.value.trim());
    if (!done) {
      location.reload();
      return;
    }
    message.setAttribute("role", "status");
    message.textContent = done;
  } catch (err) {
    message.textContent = err.name === "NotAllowedError" ? "The passkey prompt was cancelled." : err.message;
  }
  for (const b of buttons) b.disabled = false;
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  run(signIn);
});
const signup = document.getElementById("signup-button"); // not offered to a signed-in user
if (signup) signup.addEventListener("click", () => run(signUp));
