/* Loads the vendored @noble/ed25519 (an ES module) for the scanner and hands it over with an event: the scanner adds
 * this file as a <script type="module">, because the page's Content-Security-Policy allows no eval (new Function)
 * and a plain import() would stop old browsers from parsing the whole scanner. */
import * as ed from "./vendor/noble-ed25519/noble-ed25519.js";

window.dispatchEvent(new CustomEvent("beiyang:noble-ed25519", { detail: ed }));
