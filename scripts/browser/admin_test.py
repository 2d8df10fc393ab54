"""The admin pages in a real browser (Chromium, headless, driven by Selenium).

Usage: admin_test.py BASE_URL MAXIMAL_CSV SCREENSHOT_DIR
Run by scripts/browser-test.sh against a fresh server with the organization IPEX and its admin
novak (password hesloNovak). Exits non-zero with a message on the first thing that is not as the
office staff would expect it.
"""
import base64
import json
import os
import sys
import tempfile
import urllib.error
import urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.support import expected_conditions as conditions
from selenium.webdriver.support.ui import WebDriverWait

base, maximal, shots = sys.argv[1], os.path.abspath(sys.argv[2]), sys.argv[3]
os.makedirs(shots, exist_ok=True)
scratch = tempfile.mkdtemp()


def check(condition, message):
    if not condition:
        raise SystemExit("browser-test: " + message)


def api(path):
    """The API's answer as novak (HTTP Basic), to check what the pages did."""
    request = urllib.request.Request(base + path)
    request.add_header("Authorization", "Basic " + base64.b64encode(b"novak:hesloNovak").decode())
    with urllib.request.urlopen(request) as response:
        return json.load(response)


def csv_file(name, text):
    path = os.path.join(scratch, name)
    with open(path, "w", encoding="utf-8") as file:
        file.write(text)
    return path


options = webdriver.ChromeOptions()
options.binary_location = "/usr/bin/chromium"
for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1100,1300", "--lang=en-US"):
    options.add_argument(argument)
driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
wait = WebDriverWait(driver, 20)

def gone(element):
    """A wait condition: `element` no longer belongs to the page. Chromium answers a detached
    node either as stale or as "does not belong to the document": both mean gone."""
    def check(_):
        try:
            element.is_enabled()
            return False
        except WebDriverException:
            return True
    return check


def submit(element):
    """Clicks a button or link that loads a page, and waits until that page replaced this one:
    the element clicked is gone (a wait for an element the old page also has would race)."""
    element.click()
    wait.until(gone(element))


def text(css):
    return driver.find_element(By.CSS_SELECTOR, css).text


def count(name):
    return int(driver.find_element(By.CSS_SELECTOR, f'[data-count="{name}"] b').text)


def upload(path, dry_run=False):
    driver.get(base + "/admin/upload")
    driver.find_element(By.ID, "file").send_keys(path)
    submit(driver.find_element(By.ID, "dry-run" if dry_run else "upload-button"))
    wait.until(conditions.presence_of_element_located((By.CSS_SELECTOR, "#counts, #upload-error")))


try:
    # Sign in.
    driver.get(base + "/admin/contacts")
    check(driver.current_url.endswith("/admin/login"), "without a session the pages did not ask to sign in")
    driver.find_element(By.ID, "login").send_keys("novak")
    driver.find_element(By.ID, "password").send_keys("hesloNovak")
    driver.find_element(By.ID, "sign-in").click()
    wait.until(conditions.url_contains("/admin/contacts"))
    check("novak" in text("#sign-out"), "the signed-in page does not name the user")

    # The customer's maximal sample.
    upload(maximal)
    check(text("#report-title") == "Contacts uploaded", "the upload report's title: " + text("#report-title"))
    check(count("imported") == 2 and count("created") == 2 and count("rejected") == 0, "the maximal sample's counts")
    driver.save_screenshot(os.path.join(shots, "admin-upload-report.png"))
    check(len(api("/v3/contacts")["contacts"]) == 2, "the API does not see the two uploaded contacts")

    # A file with bad rows: the error table.
    bad = csv_file("bad.csv", "firstName;lastName;phone1;email\nJana;Nová;+420601222333;jana@example.cz\n"
                   "Zlý;Řádek;12345;\nBez;Emailu;+420601222334;není-email\n")
    upload(bad)
    check(count("imported") == 1 and count("rejected") == 2, "the bad file's counts")
    rows = [[cell.text for cell in row.find_elements(By.TAG_NAME, "td")]
            for row in driver.find_elements(By.CSS_SELECTOR, "#rejected tr")[1:]]
    check(["3", "phone1", "12345"] == rows[0][:3], f"the error table's first row: {rows[0]}")
    check(rows[1][0] == "4" and rows[1][1] == "email", f"the error table's second row: {rows[1]}")
    check(driver.find_element(By.ID, "download-errors").get_attribute("download") == "rejected-rows.csv", "no CSV download of the errors")
    driver.save_screenshot(os.path.join(shots, "admin-upload-errors.png"))

    # A dry run changes nothing.
    before = api("/v3/contacts")
    upload(maximal, dry_run=True)
    check(text("#report-title").startswith("Dry run"), "the dry run's title: " + text("#report-title"))
    check(count("created") == 2 and count("deleted") == 1, "the dry run's counts")
    check(api("/v3/contacts") == before, "the dry run changed the contacts")

    # Upload the sample again and find a contact by a messy form of its number.
    upload(maximal)
    driver.get(base + "/admin/contacts")
    search = driver.find_element(By.ID, "q")
    search.send_keys("00420 (222) 333-444")
    submit(driver.find_element(By.ID, "search"))
    wait.until(conditions.presence_of_element_located((By.ID, "contacts")))
    names = [link.text for link in driver.find_elements(By.CSS_SELECTOR, "#contacts td a")]
    check("Jan Novák" in names, f"the messy number found {names}")

    # Edit a contact: the Uri column stays.
    submit(driver.find_element(By.LINK_TEXT, "Jan Novák"))
    wait.until(conditions.presence_of_element_located((By.ID, "contact")))
    driver.save_screenshot(os.path.join(shots, "admin-contact.png"))
    submit(driver.find_element(By.ID, "edit"))
    field = wait.until(conditions.presence_of_element_located((By.ID, "lastName")))
    field.clear()
    field.send_keys("Novák-Dvořák")
    submit(driver.find_element(By.ID, "save"))
    wait.until(conditions.presence_of_element_located((By.ID, "contact")))
    check(text("#contact-name") == "Jan Novák-Dvořák", "the edit did not save: " + text("#contact-name"))
    uri = driver.find_element(By.CSS_SELECTOR, '[data-field="organizationUri"] a').get_attribute("href")
    check(uri == "https://nase.aplikace.cz/account/12123", f"the Uri column after the edit: {uri}")
    stored = [c for c in api("/v3/contacts")["contacts"] if c["lastName"] == "Novák-Dvořák"]
    check(len(stored) == 1 and stored[0]["organizationUri"] == "https://nase.aplikace.cz/account/12123", "the stored contact lost its Uri")

    # A value the rules refuse shows the message beside the field.
    submit(driver.find_element(By.ID, "edit"))
    field = wait.until(conditions.presence_of_element_located((By.ID, "phone1")))
    field.clear()
    field.send_keys("12")
    submit(driver.find_element(By.ID, "save"))
    message = wait.until(conditions.presence_of_element_located((By.CSS_SELECTOR, '.field-error[data-field="phone1"]')))
    check("phone1" in message.text, "the rule's message: " + message.text)

    # Labels: the contact's page shows the organization's name for the field.
    driver.get(base + "/admin/labels")
    field = driver.find_element(By.ID, "customField1")
    field.clear()
    field.send_keys("Důležitost")
    submit(driver.find_element(By.ID, "save-labels"))
    wait.until(conditions.presence_of_element_located((By.ID, "saved")))
    check(api("/v3/labels")["labels"].get("customField1") == "Důležitost", "the label was not stored")

    # Tokens: created (shown once), working, revoked.
    driver.get(base + "/admin/tokens")
    driver.find_element(By.ID, "label").send_keys("Yealink T54W")
    submit(driver.find_element(By.ID, "create-token"))
    token = wait.until(conditions.presence_of_element_located((By.ID, "new-token"))).text
    check(token.startswith("clk_") and len(token) == 52, "the new token: " + token)

    def name_with(token):
        try:
            with urllib.request.urlopen(base + "/v3/contacts/name/420222333444?token=" + token) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, ""

    status, name = name_with(token)
    check(status == 200 and name.startswith("Jan Novák"), f"the token does not look up: {status} {name}")
    driver.get(base + "/admin/tokens")
    table = driver.find_element(By.ID, "tokens")
    submit(driver.find_element(By.CSS_SELECTOR, "#tokens button.danger"))
    # The page after the revocation (the old table gone), not the one the click was made on.
    wait.until(gone(table))
    wait.until(conditions.presence_of_element_located((By.ID, "tokens")))
    check(name_with(token)[0] == 401, "the revoked token still looks up")

    # The standing popup link: shown, rotated by the button, the old one refused at once.
    def popup_status(link):
        try:
            with urllib.request.urlopen(link.replace("{NUMBER}", "%2B420222333444")) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code

    old_link = driver.find_element(By.ID, "popup-link").text
    check("/popup?token=v1." in old_link and popup_status(old_link) == 200, "the standing popup link: " + old_link)
    button = driver.find_element(By.ID, "rotate-popup-link")
    button.click()
    wait.until(gone(button))
    new_link = wait.until(conditions.presence_of_element_located((By.ID, "popup-link"))).text
    check(new_link != old_link and popup_status(new_link) == 200, "the popup link was not rotated: " + new_link)
    check(popup_status(old_link) == 403, "the rotated link still opens the page")

    # Users: a reader sees the contacts but no editing and no admin pages.
    driver.get(base + "/admin/users")
    driver.find_element(By.ID, "new-login").send_keys("jana")
    driver.find_element(By.ID, "new-password").send_keys("hesloJana1")
    submit(driver.find_element(By.ID, "add-user"))
    wait.until(conditions.presence_of_element_located((By.ID, "users-message")))
    users = {user["login"]: user["role"] for user in api("/v3/users")["users"]}
    check(users.get("jana") == "reader", f"the users after adding jana: {users}")

    # Sign out: the pages ask to sign in again.
    driver.find_element(By.ID, "sign-out").click()
    wait.until(conditions.url_contains("/admin/login"))
    driver.get(base + "/admin/contacts")
    check(driver.current_url.endswith("/admin/login"), "after signing out the pages still open")

    driver.find_element(By.ID, "login").send_keys("jana")
    driver.find_element(By.ID, "password").send_keys("hesloJana1")
    driver.find_element(By.ID, "sign-in").click()
    wait.until(conditions.url_contains("/admin/contacts"))
    check(not driver.find_elements(By.LINK_TEXT, "Upload"), "a reader sees the upload page's link")
    submit(driver.find_element(By.CSS_SELECTOR, "#contacts td a"))
    wait.until(conditions.presence_of_element_located((By.ID, "contact")))
    check(not driver.find_elements(By.ID, "edit"), "a reader sees the edit button")
    check("Důležitost" in text("#contact"), "the contact's page does not show the label")
    driver.get(base + "/admin/upload")
    check("reader" in driver.page_source and "admin" in driver.page_source, "the upload page did not refuse a reader")
    driver.find_element(By.ID, "sign-out").click()
    wait.until(conditions.url_contains("/admin/login"))
    print("browser-test: signed in, uploaded, read the error table, dry-ran, searched a messy number, "
          "edited a contact keeping its Uri, set a label, made and revoked a token, rotated the popup link, added a reader "
          "who sees no editing, signed out — in Chromium")
finally:
    driver.quit()
