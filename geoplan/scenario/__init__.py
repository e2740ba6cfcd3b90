"""Scenarios: a planning question in a TOML file, run end to end.

The file format and its checks (:mod:`~geoplan.scenario.spec`), the runner that loads a
region, answers coverage questions and solves models (:mod:`~geoplan.scenario.run`,
:mod:`~geoplan.scenario.models`), the pages it writes (:mod:`~geoplan.scenario.outputs`)
and the comparison of runs (:mod:`~geoplan.scenario.compare`). Sits on top of every stage.
"""
