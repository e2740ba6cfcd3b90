"""Stage 5 - maps and reports: render what the models computed.

Folium maps (:mod:`~geoplan.maps.canvas`, with its style :mod:`~geoplan.maps._style`,
grid layers :mod:`~geoplan.maps._grid` and offline HTML assets :mod:`~geoplan.maps._html`)
and the HTML/XLSX report (:mod:`~geoplan.maps.report`). Pages render results; they do
not compute them.
"""
