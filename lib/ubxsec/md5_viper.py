"""ubxsec.md5's native block transform and block copy: their source, compiled with
@micropython.viper at the first MD5() where the port has a native emitter
(ubxsec.pem.native_part), then this module is dropped from sys.modules."""

from array import array

# The same block transform on machine words (uint is 32 or 64 bits: every sum
# is masked to 32). State and message are read byte- and halfword-wise, so no
# alignment is assumed; K comes from a word array built once.
SOURCE = """
@micropython.viper
def transform(st,w,m,off:int):
 h=ptr16(st);p=ptr8(m);kk=ptr32(KW);gx=ptr8(X);rs=ptr8(S)
 M=(uint(0xFFFF)<<16)|uint(0xFFFF)
 a=uint(h[0])|(uint(h[1])<<16);b=uint(h[2])|(uint(h[3])<<16)
 c=uint(h[4])|(uint(h[5])<<16);d=uint(h[6])|(uint(h[7])<<16)
 i=0
 while i<64:
  r=i>>4
  if r==0:f=(b&c)|((b^M)&d)
  elif r==1:f=(d&b)|((d^M)&c)
  elif r==2:f=b^c^d
  else:f=c^(b|(d^M))
  q=off+((int(gx[i])-8)<<1)
  t=(a+f+uint(kk[i])+(uint(p[q])|(uint(p[q+1])<<8)|(uint(p[q+2])<<16)|(uint(p[q+3])<<24)))&M
  s=uint(rs[((i>>2)&12)|(i&3)]);t=((t<<s)|(t>>(uint(32)-s)))&M
  a=d;d=c;c=b;b=(b+t)&M;i+=1
 j=0
 while j<8:
  v=(uint(h[j])|(uint(h[j+1])<<16))+(a if j==0 else b if j==2 else c if j==4 else d)
  h[j]=v&0xFFFF;h[j+1]=(v>>16)&0xFFFF;j+=2
@micropython.viper
def copy(block,fill:int,data,i:int)->int:
 d=ptr8(block);p=ptr8(data);n=int(len(data))-i
 if n>64-fill:n=64-fill
 j=0
 while j<n:
  d[fill+j]=p[i+j];j+=1
 return n
"""


def build(transform, copy, k, x, s, init, words):
    """(transform, copy) compiled, or None if the port refuses them or they
    do not agree with the bytecode ones on a test block. This module leaves
    sys.modules and its package: its source is not kept."""
    import sys
    del sys.modules[__name__]
    delattr(sys.modules[__name__.rpartition(".")[0]], __name__.rpartition(".")[2])
    scope = {"KW": array("I", k), "X": x, "S": s}
    try:
        exec(SOURCE, scope)
    except (SyntaxError, NotImplementedError, MemoryError):
        return None
    fn = scope["transform"]
    block = bytes(range(64))
    one = array("H", init)
    two = array("H", init)
    w = array("i", bytes(4 * words))
    fn(one, w, block, 0)
    transform(two, w, block, 0)
    cp = scope["copy"]
    a = bytearray(64)
    b = bytearray(64)
    same = cp(a, 60, block, 1) == copy(b, 60, block, 1) == 4 and a == b
    return (fn, cp) if one == two and same else None
