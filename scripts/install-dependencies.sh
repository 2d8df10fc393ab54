#!/usr/bin/env bash
# Installs the Debian packages caller-lookup builds against, only those that are missing, and says
# what it does. Safe to run again. Needs root (or sudo) when something is missing.
set -euo pipefail

# Usage: scripts/install-dependencies.sh [--sip | --cluster | --browser | --ldap | --slapd]
#   --sip: Kamailio and SIPp, for scripts/sip-test.sh
#   --cluster: PostgreSQL, haproxy and wrk, for scripts/cluster.sh
#   --browser: Chromium, its WebDriver and Selenium (Debian's), for scripts/browser-test.sh
#   --ldap: ldapsearch and Python's ldap3 (Debian's), for scripts/ldap-test.sh
#   --slapd: OpenLDAP's slapd and libldap's headers, for scripts/bench-ldap.sh
packages=(libphonenumber-dev libsqlite3-dev libcrypt-dev libssl-dev sqlite3 curl)
case "${1:-}" in
--sip) packages=(kamailio kamailio-utils-modules sip-tester curl) ;;
--cluster) packages=(postgresql haproxy wrk curl) ;;
--browser) packages=(chromium chromium-driver python3-selenium curl) ;;
--ldap) packages=(ldap-utils python3-ldap3) ;;
--slapd) packages=(slapd ldap-utils libldap-dev) ;;
esac
missing=()
for package in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$package")
    fi
done

if [ ${#missing[@]} -eq 0 ]; then
    echo "install-dependencies: all present (${packages[*]})" >&2
    exit 0
fi

echo "install-dependencies: installing ${missing[*]}" >&2
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# slapd would otherwise make a directory of its own at install; the benchmark brings its own.
if [[ " ${missing[*]} " == *" slapd "* ]]; then echo "slapd slapd/no_configuration boolean true" | $sudo debconf-set-selections; fi
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-dependencies: done" >&2
