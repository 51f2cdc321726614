// Sign in with a passkey through passkeyd's JSON API, then reload: the
// provider's login step sees the new session and continues to the app.
const base = document.body.dataset.base || "";
const form = document.getElementById("signin");
const message = document.getElementById("message");

async function api(path, body) {
  const res = await fetch(base + path, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
    credentials: "same-origin",
  });
  const json = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(json.error || "Sign-in failed (" + res.status + ").");
  return json;
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  message.textContent = "";
  const email = document.getElementById("email").value.trim();
  try {
    const options = await api("/api/passkeys/generate-authentication-options", email ? { email } : {});
    const credential = await navigator.credentials.get({
      publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(options),
    });
    await api("/api/passkeys/verify-authentication", credential.toJSON());
    location.reload();
  } catch (err) {
    message.textContent = err.name === "NotAllowedError" ? "Sign-in was cancelled." : err.message;
  }
});
