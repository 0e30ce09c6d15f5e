#!/usr/bin/env python3
# Rebuilds the worked example of docs/formats/keystore.md without fwchain or libsodium, as an
# independent check of that page: Argon2id from pyca/cryptography (>= 44, OpenSSL >= 3.2),
# XChaCha20-Poly1305 as HChaCha20 (written here, checked against the draft-irtf-cfrg-xchacha
# test vector) followed by ChaCha20-Poly1305. Prints the derived key and the 140-byte file.
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
import struct
def rotl(v,c): return ((v<<c)&0xffffffff)|(v>>(32-c))
def qr(s,a,b,c,d):
    s[a]=(s[a]+s[b])&0xffffffff; s[d]^=s[a]; s[d]=rotl(s[d],16)
    s[c]=(s[c]+s[d])&0xffffffff; s[b]^=s[c]; s[b]=rotl(s[b],12)
    s[a]=(s[a]+s[b])&0xffffffff; s[d]^=s[a]; s[d]=rotl(s[d],8)
    s[c]=(s[c]+s[d])&0xffffffff; s[b]^=s[c]; s[b]=rotl(s[b],7)
def hchacha(key,n16):
    s=[0x61707865,0x3320646e,0x79622d32,0x6b206574]+list(struct.unpack('<8I',key))+list(struct.unpack('<4I',n16))
    for _ in range(10):
        qr(s,0,4,8,12);qr(s,1,5,9,13);qr(s,2,6,10,14);qr(s,3,7,11,15)
        qr(s,0,5,10,15);qr(s,1,6,11,12);qr(s,2,7,8,13);qr(s,3,4,9,14)
    return struct.pack('<8I',*(s[0:4]+s[12:16]))
# draft-irtf-cfrg-xchacha-03 2.2.1 HChaCha20 test vector
k=bytes(range(32)); n=bytes.fromhex("000000090000004a0000000031415927")
assert hchacha(k,n).hex()=="82413b4227b27bfed30e42508a877d73a0f9e4d58a74a853c12ec41326d3ecdc"
pw=b"fwchain example passphrase"; salt=bytes(range(16)); nonce=bytes(range(0x10,0x28))
key=Argon2id(salt=salt,length=32,iterations=1,lanes=1,memory_cost=8).derive(pw)
print("key",key.hex())
secret=bytes.fromhex("b7e151628aed2a6abf7158809cf4f3c762e7160f38b4da56a784d9045190cfef")
pk=bytes.fromhex("dff1d77f2a671c5f36183726db2341be58feae1da2deced843240f7b502ba659")
hdr=b"fwc-key\n"+bytes([1,1,1,0])+struct.pack('>II',1,8)+salt+nonce+pk
sub=hchacha(key,nonce[:16])
ct=ChaCha20Poly1305(sub).encrypt(b"\0\0\0\0"+nonce[16:],secret,hdr)
print((hdr+ct).hex())
