// The page's messages in its language, from the layout's JSON block.
const el = document.getElementById("msgs");
export const messages = el ? JSON.parse(el.textContent) : {};

// t returns the message for key, or fallback (the key) when the catalogue
// has none.
export function t(key, fallback) {
  return messages[key] ?? fallback ?? key;
}
