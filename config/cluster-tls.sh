#!/usr/bin/env bash
# Makes the cluster's private CA and one certificate per node for Akka remoting over mutual TLS (Cluster:Tls):
#   CLUSTER_TLS_PASSWORD=... config/cluster-tls.sh [folder] [node ...]     (defaults: config/cluster-tls, node1 node2 node3)
# Writes ca.key (the CA's private key: keep it off the nodes; it is only needed to issue more certificates),
# ca.crt (Cluster:Tls:CaCertificatePath on every node) and NODE.pfx (Cluster:Tls:CertificatePath of that node,
# encrypted with CLUSTER_TLS_PASSWORD, Cluster:Tls:CertificatePassword). Run again to add nodes with the same CA.
# Anyone holding a certificate from this CA can join the cluster: to remove one, make a new CA and new certificates.
set -euo pipefail
: "${CLUSTER_TLS_PASSWORD:?set CLUSTER_TLS_PASSWORD to the password that encrypts the .pfx file of every node}"
folder="${1:-config/cluster-tls}"
nodes=("${@:2}")
[ ${#nodes[@]} -gt 0 ] || nodes=(node1 node2 node3)

umask 077
mkdir -p "$folder"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

if [ ! -e "$folder/ca.key" ]; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -noenc -days 825 \
    -subj "/CN=akka-users cluster CA" -keyout "$folder/ca.key" -out "$folder/ca.crt" \
    -addext "basicConstraints=critical,CA:TRUE,pathlen:0" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
fi

for node in "${nodes[@]}"; do
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -noenc -subj "/CN=$node" \
    -keyout "$work/$node.key" -out "$work/$node.csr" 2>/dev/null
  printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=DNS:%s\n' \
    "$node" >"$work/$node.ext"
  openssl x509 -req -in "$work/$node.csr" -CA "$folder/ca.crt" -CAkey "$folder/ca.key" -set_serial "0x$(openssl rand -hex 16)" \
    -days 825 -extfile "$work/$node.ext" -out "$work/$node.crt" 2>/dev/null
  openssl pkcs12 -export -in "$work/$node.crt" -inkey "$work/$node.key" -name "$node" \
    -passout env:CLUSTER_TLS_PASSWORD -out "$folder/$node.pfx"
  echo "$folder/$node.pfx"
done
# The service runs as its own user in the container: it reads ca.crt and the (encrypted) .pfx files, never ca.key.
chmod 644 "$folder/ca.crt" "$folder"/*.pfx
chmod 755 "$folder"
