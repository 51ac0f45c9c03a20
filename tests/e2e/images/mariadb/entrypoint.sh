#!/bin/bash
# Entrypoint with the official mysql image's contract, for MariaDB (a test double).
#   First start on an empty /var/lib/mysql: initialise it, give root@localhost and
#   root@'%' the password MYSQL_ROOT_PASSWORD, create MYSQL_DATABASE.
#   Later starts: leave the data (and so the password) exactly as it is.
set -euo pipefail

DATADIR=/var/lib/mysql
SOCKET=/run/mysqld/mysqld.sock

# `docker run image --some-option` means `mysqld --some-option`, as in the official image.
if [[ "${1:-}" == -* ]]; then
    set -- mysqld "$@"
fi

log() { echo "entrypoint: $*" >&2; }

# A SQL single-quoted string literal holding $1 verbatim: double every backslash and
# every quote. Valid because the init session runs with backslash escapes on (sql_mode '').
sql_string() {
    local value=${1//\\/\\\\}
    value=${value//\'/\'\'}
    printf "'%s'" "$value"
}

# A backtick-quoted identifier; backticks quote identifiers whatever the sql_mode.
sql_identifier() {
    printf '`%s`' "${1//\`/\`\`}"
}

initialise_datadir() {
    if [[ -z "${MYSQL_ROOT_PASSWORD:-}" && -z "${MYSQL_ALLOW_EMPTY_PASSWORD:-}" ]]; then
        log "database is uninitialised and MYSQL_ROOT_PASSWORD is not set" \
            "(set it, or MYSQL_ALLOW_EMPTY_PASSWORD=yes)"
        exit 1
    fi
    local password=${MYSQL_ROOT_PASSWORD:-}

    log "initialising $DATADIR"
    mariadb-install-db --user=mysql --datadir="$DATADIR" --skip-test-db \
        --auth-root-authentication-method=socket >/dev/null

    # A temporary server reachable only through the socket, without the command's
    # options: its --sql-mode (NO_BACKSLASH_ESCAPES...) must not change how the
    # statements below are parsed.
    mysqld --user=mysql --datadir="$DATADIR" --skip-networking --socket="$SOCKET" &
    local server_pid=$! waited=0
    until mysqladmin --socket="$SOCKET" --user=root status >/dev/null 2>&1; do
        if ! kill -0 "$server_pid" 2>/dev/null; then
            log "temporary server exited during initialisation"
            exit 1
        fi
        if (( ++waited > 120 )); then
            log "temporary server did not answer within 60 s"
            exit 1
        fi
        sleep 0.5
    done

    # The SQL travels on stdin, never in argv or the process list. root reaches the
    # temporary server through unix_socket authentication as the OS user root.
    local password_literal
    password_literal=$(sql_string "$password")
    {
        echo "SET SESSION sql_mode = '';"
        # Anonymous and other default accounts: only root is part of the contract.
        echo "DELETE FROM mysql.global_priv WHERE User NOT IN ('root', 'mariadb.sys');"
        echo "DELETE FROM mysql.proxies_priv WHERE User <> 'root';"
        echo "ALTER USER 'root'@'localhost' IDENTIFIED BY $password_literal;"
        echo "CREATE USER 'root'@'%' IDENTIFIED BY $password_literal;"
        echo "GRANT ALL PRIVILEGES ON *.* TO 'root'@'%' WITH GRANT OPTION;"
        if [[ -n "${MYSQL_DATABASE:-}" ]]; then
            echo "CREATE DATABASE IF NOT EXISTS $(sql_identifier "$MYSQL_DATABASE");"
        fi
        echo "FLUSH PRIVILEGES;"
    } | mysql --protocol=socket --socket="$SOCKET" --user=root --batch

    kill -TERM "$server_pid"
    wait "$server_pid"
    log "initialisation done"
}

if [[ "$1" == mysqld || "$1" == mariadbd ]]; then
    # /run may be a fresh tmpfs: the socket directory must exist and belong to mysql.
    install -d -o mysql -g mysql -m 0755 /run/mysqld
    chown mysql:mysql "$DATADIR"
    if [[ ! -d "$DATADIR/mysql" ]]; then
        initialise_datadir
    fi
fi

exec "$@"
