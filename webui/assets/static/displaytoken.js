// displaySession exchanges the display token kept in this browser (a
// wallboard screen's, see display.js) for a session; false when there is
// none or the box refused it (revoked). A refused token is forgotten.
export async function displaySession() {
  const token = localStorage.getItem("callbox.display");
  if (!token) return false;
  try {
    const r = await fetch("/api/v1/wallboard/session", {
      method: "POST",
      credentials: "same-origin",
      headers: { Authorization: "Bearer " + token },
    });
    if (r.status === 401 || r.status === 403) localStorage.removeItem("callbox.display");
    return r.ok;
  } catch {
    return false;
  }
}
