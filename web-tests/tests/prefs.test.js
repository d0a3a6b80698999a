// With nothing chosen, the language follows the browser's Accept-Language; the keyboard moves.
// (The elder-mode and language switches themselves are tested in elder.test.js and pages.test.js.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, launch, newPage, t } from '../lib.js';

test('the language follows Accept-Language when nothing was chosen', async () => {
  const browser = await launch();
  try {
    for (const lang of ['en', 'zh-CN']) {
      const page = await newPage(browser, { locale: lang });
      await page.goto(`${BASE}/login`);
      assert.equal(await page.locator('html').getAttribute('lang'), lang);
      assert.ok(await page.getByRole('heading', { name: t(lang, 'login'), exact: true }).isVisible());
      await page.keyboard.press('Tab');
      const focused = await page.evaluate(() => document.activeElement?.className || document.activeElement?.id);
      assert.ok(focused, 'keyboard focus moves');
      await page.context().close();
    }
  } finally {
    await browser.close();
  }
});
