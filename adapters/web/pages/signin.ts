/** The sign-in form: the API token, posted to /admin/login; a wrong token comes back here with a message. */
import { type Html, html } from '../html.js';
import type { Translate } from '../i18n.js';

export function signinPage(t: Translate, next: string): Html {
  return html`<h1>${t('signin.title')}</h1>
<form method="post" action="/admin/login" class="signin">
<input type="hidden" name="next" value="${next}">
<label for="token">${t('signin.token')}</label>
<input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
<p class="help">${t('signin.help')}</p>
<button type="submit">${t('signin.submit')}</button>
</form>`;
}
