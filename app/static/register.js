// Show only the chosen region's high-tech zones (the server checks it again).
(function () {
  var region = document.getElementById("region_id");
  var zone = document.getElementById("zone_id");
  if (!region || !zone) { return; }
  function filter() {
    Array.prototype.forEach.call(zone.options, function (option) {
      var owner = option.getAttribute("data-region");
      var hidden = owner !== null && owner !== region.value;
      option.hidden = hidden;
      option.disabled = hidden;
      if (hidden && option.selected) { zone.value = "0"; }
    });
  }
  region.addEventListener("change", filter);
  filter();
}());
