//! PA108 blocking-browser-in-async: Synchronous browser automation (Selenium, sync Playwright) inside `async def`.

use super::blocking_in_async;
use crate::catalog::Effect;
use crate::finding::{Finding, Severity};
use crate::rules::{Category, Rule, RuleContext, RuleMeta};

pub struct BlockingBrowserInAsync;

static META: RuleMeta = RuleMeta {
    code: "PA108",
    name: "blocking-browser-in-async",
    category: Category::Blocking,
    default_severity: Severity::Critical,
    summary: "Synchronous browser automation (Selenium, sync Playwright) inside `async def`",
    doc: r#"## What it does
Finds Selenium WebDriver and synchronous Playwright calls — starting a browser, loading a page,
finding elements, running scripts — executed on the event loop.

## Why is this slow?
Starting a browser takes seconds; loading a page waits for the network and the page's scripts.
Each WebDriver command is an HTTP round trip to the driver. On the event loop, every concurrent
request waits for all of it.

## Example
```python
from selenium import webdriver

async def screenshot(url):
    driver = webdriver.Chrome()
    driver.get(url)
    return driver.get_screenshot_as_png()
```

## Use instead
```python
from playwright.async_api import async_playwright

async def screenshot(url):
    async with async_playwright() as p:
        browser = await p.chromium.launch()
        page = await browser.new_page()
        await page.goto(url)
        return await page.screenshot()
```

## Cost model
The catalog range for the command: browser start-up and page loads cite vendor figures.
"#,
};

impl Rule for BlockingBrowserInAsync {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &RuleContext, out: &mut Vec<Finding>) {
        blocking_in_async(&META, &[Effect::Browser], cx, out, None);
    }
}
