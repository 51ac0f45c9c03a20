#!/bin/sh
# Pebble's HTTPS listener certificate, made here: valid for 127.0.0.1 and every address of
# the network namespace it runs in, signed by a CA of its own (/pebble/listener-ca.pem).
# Pebble's issuing root is another one, made at each start (GET :15000/roots/0).
set -eu
mkdir -p /pebble && cd /pebble
sans="IP:127.0.0.1,DNS:localhost"
for address in $(ip -o addr show scope global | awk '{print $4}' | cut -d/ -f1); do
    sans="$sans,IP:$address"
done
openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=pebble listener CA" \
    -keyout listener-ca.key -out listener-ca.pem 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj "/CN=pebble" -keyout listener.key \
    -out listener.csr 2>/dev/null
printf 'subjectAltName=%s\n' "$sans" > san.ext
openssl x509 -req -in listener.csr -CA listener-ca.pem -CAkey listener-ca.key \
    -CAcreateserial -days 30 -extfile san.ext -out listener.pem 2>/dev/null
cat > config.json <<JSON
{"pebble": {"listenAddress": "0.0.0.0:14000", "managementListenAddress": "127.0.0.1:15000",
 "certificate": "/pebble/listener.pem", "privateKey": "/pebble/listener.key",
 "httpPort": 80, "tlsPort": 443, "ocspResponderURL": "", "externalAccountBindingRequired": false}}
JSON
pebble-challtestsrv -defaultIPv4 127.0.0.1 -defaultIPv6 "" -dns01 127.0.0.1:8053 \
    -http01 "" -https01 "" -tlsalpn01 "" -doh "" -management 127.0.0.1:8055 &
# No random sleeps before validations, no random nonce rejections: quick and repeatable.
export PEBBLE_VA_NOSLEEP=1 PEBBLE_WFE_NONCEREJECT=0
exec pebble -config /pebble/config.json -dnsserver 127.0.0.1:8053
