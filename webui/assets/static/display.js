// A wallboard screen's start (/wallboard/display#<display token>): the
// token from the address's fragment (which never reaches the server) is
// kept in the browser's storage and exchanged for a session, then the
// wallboard opens. Without a fragment the stored token is used, so the
// screen's browser may open this page again after a power cut.
import { displaySession } from "./displaytoken.js";

const note = document.getElementById("display-msg");
const fromURL = decodeURIComponent(location.hash.slice(1));
if (fromURL) {
  localStorage.setItem("callbox.display", fromURL);
  history.replaceState(null, "", location.pathname);
}
displaySession().then((ok) => {
  if (ok) location.replace("/wallboard");
  else note.textContent = localStorage.getItem("callbox.display") ? note.dataset.refused : note.dataset.missing;
});
