"""A snapshot of a partner's picture as a GeoJSON FeatureCollection (RFC 7946; cut at the antimeridian).

Features, in a fixed order: per track its latest position (Point) and its path (LineString), per predicted
impact its 95 % region (Polygon), per alert whose latest change has an area that area (Polygon).  Each
feature's ``id`` says what it is (``track/<key>``, ``path/<key>``, ``impact/<key>``, ``alert/<owner>/<id>``)
and its properties carry the record's fields in the run folder's units.  The collection carries
``"exercise": true`` and the marking as foreign members.
"""

from __future__ import annotations

from typing import Any

import geojson

from mwx.exports.geojson import area_geometry, line_geometry, point_geometry
from mwx.exports.geometry import split_polygons
from mwx.live.updates import Snapshot


def collection(snapshot: Snapshot) -> dict[str, Any]:
    """The FeatureCollection of ``snapshot``."""
    features: list[geojson.Feature] = []

    def add(feature_id: str, geometry: Any, **properties: Any) -> None:
        if geometry is not None:
            features.append(geojson.Feature(id=feature_id, geometry=geometry, properties=properties))

    for view in snapshot.tracks:
        state = view.state
        props = dict(
            kind=state.kind,
            source=state.source,
            track_id=state.track_id,
            time=state.time.isoformat(),
            alt_km=state.alt_km,
            speed_mps=state.speed_mps,
            heading_deg=state.heading_deg,
            boosting=state.boosting,
            launch_id=state.launch_id,
        )
        add(f"track/{state.key}", point_geometry(state.lat, state.lon), **props)
        add(f"path/{state.key}", line_geometry(list(view.trail)), kind=state.kind, source=state.source)
        if state.impact is not None:
            impact = state.impact
            add(
                f"impact/{state.key}",
                area_geometry(split_polygons(impact.outline.rings)),
                time=None if impact.time is None else impact.time.isoformat(),
                lat=impact.point.lat,
                lon=impact.point.lon,
                semi_major_km=impact.ellipse_95.semi_major_km,
                semi_minor_km=impact.ellipse_95.semi_minor_km,
            )
    for alert in snapshot.alerts:
        drawn = next((c for c in reversed(alert.changes) if c.change.alert_area), None)
        if drawn is None or drawn.change.alert_area is None:
            continue
        add(
            f"alert/{alert.owner}/{alert.alert_id}",
            area_geometry(split_polygons(drawn.change.alert_area)),
            owner=alert.owner,
            alert_id=alert.alert_id,
            area=alert.area,
            reason=alert.reason,
            status=alert.status,
            acked_by=sorted({a.by for a in alert.acks}),
        )
    out = geojson.FeatureCollection(features)
    out["exercise"] = True
    out["marking"] = snapshot.marking
    out["partner"] = snapshot.partner
    out["time"] = None if snapshot.time is None else snapshot.time.isoformat()
    return dict(out)
