"""Host test configuration: the rig fixtures live in their own plugin modules."""

pytest_plugins = ["fixtures_sim", "fixtures_board"]
