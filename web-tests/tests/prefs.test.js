// Elder mode (长辈版) and the language switch, remembered across pages.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, launch, newPage, login, shot } from '../lib.js';

test('elder mode and English are switched with one click and remembered', async () => {
  const browser = await launch();
  try {
    const page = await newPage(browser, { phone: true });
    await login(page, 'holder1');
    assert.equal(await page.locator('html').getAttribute('lang'), 'zh-CN');
    await page.getByRole('link', { name: '长辈版' }).click();
    await page.waitForLoadState('networkidle');
    assert.match(await page.locator('body').getAttribute('class'), /elder/);
    const size = await page.evaluate(() => getComputedStyle(document.body).fontSize);
    assert.equal(size, '22px');
    await shot(page, 'portal-elder');

    await page.getByRole('link', { name: 'English' }).click();
    await page.waitForLoadState('networkidle');
    assert.equal(await page.locator('html').getAttribute('lang'), 'en');
    assert.ok(await page.getByRole('heading', { name: 'My card', exact: true }).isVisible());
    await page.goto(`${BASE}/portal`);
    assert.match(await page.locator('body').getAttribute('class'), /elder/, 'elder mode remembered');
    assert.equal(await page.locator('html').getAttribute('lang'), 'en', 'language remembered');
    await shot(page, 'portal-elder-en');
    // Every text on the page is translated: no raw translation keys show.
    const text = await page.locator('body').innerText();
    assert.doesNotMatch(text, /\b(st|k|c)_[a-z_]+\b/);
  } finally {
    await browser.close();
  }
});

test('the language follows Accept-Language when nothing was chosen', async () => {
  const browser = await launch();
  try {
    const page = await newPage(browser, { locale: 'en-US' });
    await page.goto(`${BASE}/login`);
    assert.equal(await page.locator('html').getAttribute('lang'), 'en');
    assert.ok(await page.getByRole('heading', { name: 'Log in' }).isVisible());
    await page.keyboard.press('Tab');
    const focused = await page.evaluate(() => document.activeElement?.className || document.activeElement?.id);
    assert.ok(focused, 'keyboard focus moves');
  } finally {
    await browser.close();
  }
});
