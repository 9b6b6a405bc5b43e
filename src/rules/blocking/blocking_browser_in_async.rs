//! PA108 blocking-browser-in-async: Synchronous browser automation (Selenium, sync Playwright) inside `async def`.

use super::BlockingInAsync;
use crate::finding::Severity;
use crate::knowledge::catalog::Effect;
use crate::rules::cost::CostMeta;
use crate::rules::{Category, RuleMeta};

static META: RuleMeta = RuleMeta {
    code: "PA108",
    name: "blocking-browser-in-async",
    category: Category::Blocking,
    default_severity: Severity::Critical,
    summary: "Synchronous browser automation (Selenium, sync Playwright) inside `async def`",
    cost: CostMeta::calls(&[Effect::Browser]),
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

/// The rule: the shared event-loop check, for this rule's effects.
pub static RULE: BlockingInAsync = BlockingInAsync::on_loop(&META, &[Effect::Browser]);
