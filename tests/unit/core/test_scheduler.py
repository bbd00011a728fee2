import asyncio

from codequorum.core.scheduler import ComputeScheduler


async def test_waiters_are_served_cheapest_first():
    scheduler = ComputeScheduler(slots=1)
    order: list[str] = []
    gate = asyncio.Event()

    async def job(name: str, priority: float, hold: asyncio.Event | None = None):
        async with scheduler.slot(priority):
            order.append(name)
            if hold:
                await hold.wait()

    first = asyncio.create_task(job("first", 5, gate))
    await asyncio.sleep(0)
    expensive = asyncio.create_task(job("expensive", 30))
    cheap = asyncio.create_task(job("cheap", 1))
    await asyncio.sleep(0.01)
    gate.set()
    await asyncio.gather(first, expensive, cheap)
    assert order == ["first", "cheap", "expensive"]


async def test_no_more_than_the_slots_run_at_once():
    scheduler = ComputeScheduler(slots=2)
    running = peak = 0

    async def job():
        nonlocal running, peak
        async with scheduler.slot():
            running += 1
            peak = max(peak, running)
            await asyncio.sleep(0.01)
            running -= 1

    await asyncio.gather(*(job() for _ in range(6)))
    assert peak == 2


async def test_a_cancelled_waiter_does_not_leak_its_slot():
    scheduler = ComputeScheduler(slots=1)
    gate = asyncio.Event()

    async def holder():
        async with scheduler.slot():
            await gate.wait()

    held = asyncio.create_task(holder())
    await asyncio.sleep(0)
    waiter = asyncio.create_task(holder())
    await asyncio.sleep(0)
    waiter.cancel()
    gate.set()
    await held
    async with asyncio.timeout(1):
        async with scheduler.slot():
            pass


async def test_requests_that_arrive_together_are_served_cheapest_first():
    scheduler = ComputeScheduler(slots=1)
    order: list[str] = []

    async def job(name: str, priority: float):
        async with scheduler.slot(priority):
            order.append(name)
            await asyncio.sleep(0)

    await asyncio.gather(job("strong", 33), job("cheap", 7), job("middle", 21))
    assert order == ["cheap", "middle", "strong"]
