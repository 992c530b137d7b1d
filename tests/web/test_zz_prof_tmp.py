import time
from tests.web.test_security import *  # noqa
from tests.web.test_security import template, world  # noqa: F401

def test_timing(world):
    t=time.perf_counter(); s = world.enter(world.case.town); t1=time.perf_counter()
    world.extendable(world.case.town); t2=time.perf_counter()
    s.client.get("/u"); t3=time.perf_counter()
    o = world.enter(ZHUANBAN); t4=time.perf_counter()
    world.token(world.case.town); t5=time.perf_counter()
    world.counts(); t6=time.perf_counter()
    print(f"\nenter {t1-t:.3f} extendable {t2-t1:.3f} /u {t3-t2:.3f} office {t4-t3:.3f} token {t5-t4:.3f} counts {t6-t5:.3f}")
