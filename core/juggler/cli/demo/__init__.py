"""``juggler demo``: the story of a call that survives outages, told against the simulator."""
