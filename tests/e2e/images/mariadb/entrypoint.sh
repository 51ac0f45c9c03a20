#!/bin/bash
# TEST DOUBLE of mysql:5.7's docker-entrypoint.sh, for MariaDB. It keeps the real
# script's order and quoting on purpose, flaws included (see ../README.md for the lines
# of the real script each step copies):
#   - the temporary server of the first start runs with the user's arguments (so the
#     seed's --sql-mode, NO_BACKSLASH_ESCAPES and ANSI_QUOTES included, applies while
#     the accounts are made), only on the socket;
#   - MYSQL_ROOT_PASSWORD is pasted into SQL unescaped (IDENTIFIED BY '${...}') and into
#     an option file as password="${...}" that later steps log in with;
#   - a failing step exits with the data directory already made: a half-initialised
#     volume, which later starts take as initialised.
set -eo pipefail

DATADIR=/var/lib/mysql
SOCKET=/run/mysqld/mysqld.sock

log() { printf '%s [%s] [Entrypoint]: %s\n' "$(date --rfc-3339=seconds)" "$1" "$2"; }
fail() { log ERROR "$1" >&2; exit 1; }

# The option file the client reads the root password from, as _mysql_passfile writes it.
passfile() {
    if [ "$1" != --dont-use-mysql-root-password ] && [ -n "$MYSQL_ROOT_PASSWORD" ]; then
        printf '[client]\npassword="%s"\n' "$MYSQL_ROOT_PASSWORD"
    fi
}

process_sql() {
    local passfile_arguments=()
    if [ "$1" = --dont-use-mysql-root-password ]; then
        passfile_arguments+=("$1")
        shift
    fi
    if [ -n "$MYSQL_DATABASE" ]; then
        set -- --database="$MYSQL_DATABASE" "$@"
    fi
    mariadb --defaults-extra-file=<(passfile "${passfile_arguments[@]}") --protocol=socket \
        -uroot -hlocalhost --socket="$SOCKET" --comments "$@"
}

temp_server_start() {
    "$@" --skip-networking --default-time-zone=SYSTEM --socket="$SOCKET" &
    log Note "Waiting for server startup"
    local i
    for i in {30..0}; do
        if process_sql --dont-use-mysql-root-password --database=mysql <<<'SELECT 1' &>/dev/null; then
            break
        fi
        sleep 1
    done
    [ "$i" != 0 ] || fail "Unable to start server."
}

temp_server_stop() {
    mariadb-admin --defaults-extra-file=<(passfile) shutdown -uroot --socket="$SOCKET" \
        || fail "Unable to shut down server."
}

setup_db() {
    MYSQL_ROOT_HOST=${MYSQL_ROOT_HOST:-%}
    local root_create=
    if [ -n "$MYSQL_ROOT_HOST" ] && [ "$MYSQL_ROOT_HOST" != localhost ]; then
        read -r -d '' root_create <<-EOSQL || true
			CREATE USER 'root'@'${MYSQL_ROOT_HOST}' IDENTIFIED BY '${MYSQL_ROOT_PASSWORD}' ;
			GRANT ALL ON *.* TO 'root'@'${MYSQL_ROOT_HOST}' WITH GRANT OPTION ;
		EOSQL
    fi
    local password_set=
    read -r -d '' password_set <<-EOSQL || true
		ALTER USER 'root'@'localhost' IDENTIFIED BY '${MYSQL_ROOT_PASSWORD}' ;
	EOSQL
    process_sql --dont-use-mysql-root-password --database=mysql <<-EOSQL
		SET @@SESSION.SQL_LOG_BIN=0;
		${password_set}
		GRANT ALL ON *.* TO 'root'@'localhost' WITH GRANT OPTION ;
		FLUSH PRIVILEGES ;
		${root_create}
		DROP DATABASE IF EXISTS test ;
	EOSQL
    if [ -n "$MYSQL_DATABASE" ]; then
        log Note "Creating database ${MYSQL_DATABASE}"
        process_sql --database=mysql <<<"CREATE DATABASE IF NOT EXISTS \`$MYSQL_DATABASE\` ;"
    fi
}

initialise() {
    if [ -z "$MYSQL_ROOT_PASSWORD" ] && [ -z "$MYSQL_ALLOW_EMPTY_PASSWORD" ]; then
        fail "Database is uninitialized and password option is not specified"
    fi
    log Note "Initializing database files"
    # --initialize-insecure: root@localhost without a password, no other account.
    mariadb-install-db --user=mysql --datadir="$DATADIR" --skip-test-db \
        --auth-root-authentication-method=normal >/dev/null
    # mariadb-install-db also makes root@<hostname> and mariadb.sys; 5.7 has only root@localhost.
    log Note "Starting temporary server"
    temp_server_start "$@"
    log Note "Temporary server started."
    process_sql --dont-use-mysql-root-password --database=mysql \
        <<<"DELETE FROM mysql.global_priv WHERE Host <> '' AND NOT (User = 'root' AND Host = 'localhost') AND User <> 'mariadb.sys'; DELETE FROM mysql.proxies_priv WHERE Proxied_host <> 'localhost'; FLUSH PRIVILEGES;"
    setup_db
    log Note "Stopping temporary server"
    temp_server_stop
    wait
    log Note "MySQL init process done. Ready for start up."
}

# `docker run image --some-option` means `mysqld --some-option`, as in the official image.
if [ "${1:0:1}" = - ]; then
    set -- mysqld "$@"
fi

if [ "$1" = mysqld ] || [ "$1" = mariadbd ]; then
    # /run may be a fresh tmpfs: the socket directory must exist and belong to mysql.
    install -d -o mysql -g mysql -m 0755 /run/mysqld
    chown mysql:mysql "$DATADIR"
    if [ ! -d "$DATADIR/mysql" ]; then
        initialise "$@"
    fi
fi

exec "$@"
