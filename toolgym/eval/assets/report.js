(function(){
  function openTarget(){
    var id=decodeURIComponent(location.hash.slice(1)), el=id&&document.getElementById(id);
    if(el&&el.tagName==='DETAILS'){el.open=true;el.scrollIntoView();}
  }
  window.addEventListener('hashchange',openTarget);openTarget();
  document.addEventListener('click',function(e){
    var b=e.target.closest&&e.target.closest('button.fold');
    if(b){b.classList.toggle('open');}
  });
  var only=document.getElementById('only-failed');
  if(only){only.addEventListener('change',function(){document.body.classList.toggle('only-failed',only.checked);});}
  document.querySelectorAll('table.sortable').forEach(function(table){
    var heads=table.querySelectorAll('th');
    heads.forEach(function(th,col){
      if(th.dataset.type==='none')return;
      th.addEventListener('click',function(){
        var asc=!th.classList.contains('asc'), text=th.dataset.type==='text';
        heads.forEach(function(h){h.classList.remove('asc','desc');});
        th.classList.add(asc?'asc':'desc');
        var body=table.tBodies[0], rows=Array.prototype.slice.call(body.rows);
        function key(r){var c=r.cells[col];if(!c)return '';return text?c.textContent:parseFloat(c.dataset.v);}
        rows.sort(function(a,b){var x=key(a),y=key(b);var d=text?String(x).localeCompare(String(y)):x-y;return asc?d:-d;});
        rows.forEach(function(r){body.appendChild(r);});
      });
    });
  });
})();
