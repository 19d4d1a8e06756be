"""The console as an operator uses it, in Debian's headless Chromium (pytest -m browser).

An operator logs in, works the receipt queue from the home page (approves one with the
"a" key, the next waiting receipt opens; rejects that one with a preset reason, the
queue is empty), extends an account from its page and switches the language. Nothing
is downloaded: /usr/bin/chromium through /usr/bin/chromedriver (Debian's packages).
Screenshots go to artifacts/screenshots/ (README, "Browser tests").
"""

import datetime as dt
import os
import shutil
import tempfile
from pathlib import Path

import pytest

from accounts.tests.samples import make_topup_receipt
from billing.models import Receipt
from panels.models import ClientAccount
from panels.tests.lifecycle_helpers import make_plan, sellable_inbound, sold_account

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
SCREENSHOTS = Path(__file__).resolve().parents[3] / "artifacts" / "screenshots"


@pytest.fixture
def browser():
    if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
        pytest.fail("apt-get install chromium chromium-driver (the browser tests need them)")
    os.environ["SE_OFFLINE"] = "true"  # never let selenium-manager fetch a driver
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="moonvpn-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1400,1000",
        "--lang=fa",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(flag)
    options.add_experimental_option("prefs", {"intl.accept_languages": "fa"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.implicitly_wait(5)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def shot(driver, name):
    driver.save_screenshot(str(SCREENSHOTS / f"{name}.png"))


def messages(driver):
    from selenium.webdriver.common.by import By

    return " ".join(e.text for e in driver.find_elements(By.CSS_SELECTOR, "ul.messagelist li"))


def test_an_operator_works_the_console(
    browser, live_server, staff_user, customer, xui_panel, fake_xui
):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    first = make_topup_receipt(customer, amount=200_000, color="white")
    second = make_topup_receipt(customer, amount=300_000, color="red")
    Receipt.objects.filter(pk=first.pk).update(created_at=first.created_at - dt.timedelta(hours=2))
    inbound = sellable_inbound(xui_panel, fake_xui, protocol="vless", security="reality")
    account = sold_account(customer, make_plan(), xui_panel, inbound)
    expires = ClientAccount.objects.get(pk=account.pk).expires_at
    wait = WebDriverWait(browser, 15)

    # Log in; the home page is the work queue, in Persian, right to left.
    browser.get(live_server.url + "/admin/")
    browser.find_element(By.NAME, "username").send_keys("operator")
    browser.find_element(By.NAME, "password").send_keys("operator-pass-123")
    browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    wait.until(EC.presence_of_element_located((By.ID, "work-queue")))
    html = browser.find_element(By.TAG_NAME, "html")
    assert html.get_attribute("lang") == "fa" and html.get_attribute("dir") == "rtl"
    assert browser.find_element(By.ID, "receipts-waiting-count").text == "۲"  # Persian digits
    shot(browser, "01-home-work-queue")

    # The oldest receipt first; "a" approves it and the next waiting one opens.
    links = browser.find_elements(By.CSS_SELECTOR, "#queue-receipts a.queue-receipt")
    assert [link.text for link in links] == [f"#{first.pk}", f"#{second.pk}"]
    links[0].click()
    wait.until(EC.presence_of_element_located((By.ID, "receipt-review")))
    shot(browser, "02-receipt-review")
    browser.find_element(By.TAG_NAME, "body").send_keys("a")
    wait.until(EC.url_contains(f"/billing/receipt/{second.pk}/change/"))
    assert Receipt.objects.get(pk=first.pk).status == Receipt.Status.APPROVED
    customer.refresh_from_db()
    assert customer.balance == 200_000

    # Reject the second with a preset reason: the queue is empty, back home.
    browser.find_elements(By.CSS_SELECTOR, "#reject-reasons .reject-preset")[0].click()
    wait.until(EC.presence_of_element_located((By.ID, "work-queue")))
    second.refresh_from_db()
    assert second.status == Receipt.Status.REJECTED and second.reject_reason
    assert browser.find_element(By.ID, "receipts-waiting-count").text == "۰"
    shot(browser, "03-queue-done")

    # Extend the account from its own page.
    browser.get(f"{live_server.url}/admin/panels/clientaccount/{account.pk}/change/")
    browser.find_element(By.ID, "object-action-extend_accounts").click()
    days = wait.until(EC.presence_of_element_located((By.NAME, "days")))
    days.clear()
    days.send_keys("10")
    browser.find_element(By.NAME, "note").send_keys("goodwill, browser test")
    browser.find_element(By.CSS_SELECTOR, "input[type=submit].default").click()
    wait.until(EC.url_contains(f"/panels/clientaccount/{account.pk}/change/"))
    after = ClientAccount.objects.get(pk=account.pk).expires_at
    assert after - expires == dt.timedelta(days=10)
    assert account.email in messages(browser).lower()
    assert "۱۴۰" in messages(browser)  # the new expiry as a Jalali date
    shot(browser, "04-account-extended")

    # Switch the console to English: the same page, now left to right.
    from selenium.webdriver.support.ui import Select

    Select(browser.find_element(By.ID, "console-language-select")).select_by_value("en")
    wait.until(lambda d: d.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en")
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("dir") == "ltr"
    assert f"/panels/clientaccount/{account.pk}/change/" in browser.current_url
    shot(browser, "05-english")
