"""Parks and parcels: registration, classification on a date, the 一宗一策 ledger and the
yearly park evaluation (docs/domain.md).

Classification of a parcel on a date (the contract field ``categories``), each category with
the predicate results that produced it:

- ``approved_unsupplied`` (批而未供, PIWG): approved on or before the date (approval document
  and date) and not supplied by then (no contract signed / allocation recorded by the date);
- ``idle`` (闲置土地, IDLE): the 53号令 idle-land state of the parcel's contract on the date
  (``app.lifecycle.idle``): idle_1y, idle_2y, stalled, or government_caused (still idle land;
  the cause decides the disposal route);
- ``low_efficiency`` (低效用地, LOW_EFF): any predicate of the park's rule set
  (a law document of kind low_efficiency, ``app.checks.low_efficiency``) holds; idle land is excluded when the
  rule set says so.

Tax: a parcel's tax is its contract's transferee's current tax record for the year
(``Contract.transferee_uscc``), allocated over the enterprise's land by area
(``app.checks.tax_per_mu``: the one 亩均税收 function, also used by the contract audit).  The park
亩均税收 of a year = Σ counted tax ÷ Σ area (亩) of ALL its industrial parcels supplied by the
year's end (the plan's 工业用地亩均税收 is a figure over the industrial land): a parcel without a
record counts 0 and is listed with its reason (``ZERO_REASONS``: idle land, 停建, 停产, not started,
under construction — or missing data for a producing enterprise or a parcel with no taxpayer).
Below the target with missing data the verdict is ``incomplete`` (those parcels could lift it);
at or above it, missing data cannot change it.  The same tax over the land with data only is a
secondary line (``over_land_with_data``), and the figure the low-efficiency tax predicate compares
a parcel with.  The tax basis is the park rule set's, else the standard-land rule set's in force
on 31 December; the area basis is the contract/parcel area.

Every decisive comparison (approval and supply dates, the idle-land tests, the low-efficiency
predicates, the park figure against its target, each parcel against the park figure, the
year-over-year sign) runs through the rule engine; all arithmetic is exact (Fraction).

Tax confidentiality (``app.checks.visibility``): ``load`` takes the caller's ``TaxView`` and
screens the tax records before anything is computed.  A parcel whose transferee's record was
reported by a region the caller may not see is ``withheld`` (不在本辖区权限内): no USCC-linked tax,
no 亩均税收, no tax-based low-efficiency result.  The park aggregate (total tax, 亩均税收, its
target distance and year-over-year change) is computed over every enterprise from the unscreened
records kept for that purpose only (``ParkData.aggregate_tax``), and shown when the disclosure
rule allows it (``visibility.disclose``); otherwise it is withheld as well.  Results name the
regions of the tax figures they contain (``tax_regions``).  A parcel withheld from the caller is
neither zero nor missing for it: its area is in the denominator and its tax in the aggregate like
any other; the verdict is the aggregate's (an ``incomplete`` one names only the parcels the caller
sees, and says whether withheld parcels lack data too).

The package, one module per job (callers import from the module):

- ``registry``   — park and parcel registration, park names, ``park_view``;
- ``data``       — ``load`` → ``ParkData`` / ``ParcelRec``;
- ``tax``        — ``tax_basis``, ``parcel_tax``, ``park_tax`` → ``ParkTax``, ``explain_zeros``;
- ``classify``   — ``facts``, ``plot_ratio_requirement``, ``classify``, ``parcel_basics``, ``parcel_view``;
- ``plans``      — measures, statutory caps (from the 53号令 document), ``check_plan``, ``put_plan``, history;
- ``ledger``     — ``ledger``, ``flat_ledger``;
- ``evaluation`` — ``evaluate``, ``run_evaluation``, ``reevaluate`` (replay);
- ``documents``  — the law documents read (low-efficiency rule sets through ``app.checks.law``, 53号令) and their pins;
- ``common``     — labels and small helpers shared by the above.

The functions taking plain dicts (``registry.register_park``, ``register_parcel``,
``register_park_with_parcels``, ``plans.put_plan``) are what an Excel import or a demo-data script
calls; the routers in ``app.api.parks`` call the same ones.
"""
