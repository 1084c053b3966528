"""ubxsec.pem's native base64: its source, compiled with @micropython.viper
at the first PemDecoder() where the port has a native emitter
(ubxsec.pem.native_part), then this module is dropped from sys.modules. Ports
without one never load it and decode in bytecode, byte by byte.

The decoder's feed() then runs body lines natively and hands the generator
only what the run leaves (the BEGIN and END lines, padding, line ends split
between chunks, anything bad), a line at a time; both share their state in
one array, st: the next byte, the group's bits, its digits, bytes staged,
at a line start, the buffer's size, padding seen, the generator's state.
"""

from array import array

# run(data, n, out, st): from st[0], base64 digits into out (a whole group
# at a time where one lies ahead), line ends (LF, or CR LF within data)
# between them, until a byte it leaves to the generator (padding, a dash, a
# blank line, anything else, a CR at the end of data), out full or n.
# lf(data, i, n): the index after the next LF from i, or n.
SOURCE = """
@micropython.viper
def run(data,n:int,out,st):
 p=ptr8(data);q=ptr8(out);s=ptr32(st);t=ptr8(CLS)
 i=s[0];acc=s[1];k=s[2];o=s[3];bol=s[4];full=s[5]
 while i<n:
  if k==0 and i+4<=n:
   a=t[p[i]];b=t[p[i+1]];d=t[p[i+2]];v=t[p[i+3]]
   if (a|b|d|v)<64:
    v|=(a<<18)|(b<<12)|(d<<6)
    q[o]=v>>16;q[o+1]=v>>8;q[o+2]=v;o+=3;i+=4;bol=0
    if o==full:break
    continue
  v=t[p[i]]
  if v<64:
   acc=(acc<<6)|v;k+=1;bol=0
   if k==4:
    q[o]=acc>>16;q[o+1]=acc>>8;q[o+2]=acc;o+=3;acc=0;k=0
    if o==full:
     i+=1;break
  elif v==67:
   if bol:break
   bol=1
  elif v==66 and bol==0 and i+1<n and p[i+1]==10:
   i+=1;bol=1
  else:break
  i+=1
 s[0]=i;s[1]=acc;s[2]=k;s[3]=o;s[4]=bol
@micropython.viper
def lf(data,i:int,n:int)->int:
 p=ptr8(data)
 while i<n:
  i+=1
  if p[i-1]==10:break
 return i
@micropython.viper
def feed(h,data,n:int):
 st=h.st;s=ptr32(st);dec=h.dec;out=h.out
 start=int(dec.offset);i=0
 while i<n:
  if s[7]==BODY and s[6]==0 and not dec.error:
   s[0]=i
   run(data,n,out,st)
   if s[3]==s[5]:
    h.flush();s[3]=0
   j=s[0]
   if j>i:
    i=j;continue
  j=int(lf(data,i,n))
  s[0]=i;s[7]=-1
  h.bytecode(dec,data,j)
  dec.offset=start
  i=j
 dec.staged=s[3]
 dec.offset=start+n
"""


class _Feed:
    """What a decoder's native feed() works on (attributes read by feed)."""

    def __init__(self, dec, out, flush):
        self.dec = dec
        self.out = out
        self.flush = flush
        self.bytecode = type(dec).feed
        self.st = array("i", (0, 0, 0, 0, 1, len(out), 0, 0))


def build(cls, body):
    """attach(dec, out, flush) -> st, which gives dec its native feed(); or
    None if the port refuses the source or it does not decode as it must.
    This module leaves sys.modules and its package: its source is not kept."""
    import sys
    del sys.modules[__name__]
    delattr(sys.modules[__name__.rpartition(".")[0]], __name__.rpartition(".")[2])
    # every byte value classified: from 0x80 on, foreign (69, pem._OTHER)
    scope = {"CLS": bytes(cls) + b"\x45" * 128}
    try:
        exec(SOURCE.replace("BODY", str(body)), scope)
    except (SyntaxError, NotImplementedError, MemoryError):
        return None
    run = scope["run"]
    out = bytearray(6)
    st = array("i", (0, 0, 0, 0, 1, 6))
    run(b"TWFu\r\nTWFu=", 11, out, st)   # stops at the '=' with out full
    if out != b"ManMan" or list(st) != [10, 0, 0, 6, 0, 6] or scope["lf"](b"ab\ncd", 0, 5) != 3:
        return None
    native = scope["feed"]

    def attach(dec, out, flush):
        h = _Feed(dec, out, flush)

        def feed(data, n=-1):
            # a small frame: the work is native
            native(h, data, len(data) if n < 0 else n)
        dec.feed = feed
        return h.st
    return attach
