import asyncio
import ubxsec
from board import uart
from ubxsec.aio import AsyncModule


async def heartbeat(beats):
    while True:                      # another task: it keeps running throughout
        await asyncio.sleep_ms(10)
        beats[0] += 1


async def main():
    m = AsyncModule(uart())          # the keyword options of ubxsec.Module
    beats = [0]
    asyncio.create_task(heartbeat(beats))
    print("chip id", len(await m.chip_id()), "characters")
    md5 = await m.certs.import_file("ca.pem", ubxsec.CA, "AioCA")
    print("imported AioCA, MD5", md5)
    p = m.profile(2)
    await p.validation_level(1)
    await p.ca_name("AioCA")
    print("profile 2 trusts", await p.ca_name())
    urcs = m.urcs("+UUSECPRF:")      # URCs reach a task, no poll() needed
    async for line in urcs:
        print("URC", line)
        break
    print("heartbeat ran:", beats[0] > 10)
    m.close()


asyncio.run(main())
