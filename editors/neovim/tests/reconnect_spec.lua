-- The plugin's reconnection, run headless by tests/e2e/test_neovim_plugin_real_server.py with
-- $CODEQUORUM_SPEC naming a JSON file: { "file", "address", "dir", "output", "options" (more
-- plugin options: remote_ca_file, connect_cmd, ...) }. It connects to
-- the server at "address", writes "dir"/connected once ready, waits for the test to stop the
-- server (the state turns "disconnected") and start it again on the same port (the plugin
-- connects again by itself, "ready"), and writes the states it went through to "output".
local spec = vim.fn.json_decode(table.concat(vim.fn.readfile(vim.env.CODEQUORUM_SPEC), "\n"))
local codequorum = require("codequorum")
local uv = vim.uv or vim.loop

local results = { states = {}, messages = {} }

local function finish(err)
  results.error = err
  vim.fn.writefile({ vim.fn.json_encode(results) }, spec.output)
  vim.cmd(err and "cquit!" or "qall!")
end

local function once(what, ready, step)
  local deadline = uv.now() + 120000
  local timer = uv.new_timer()
  timer:start(50, 50, vim.schedule_wrap(function()
    if ready() or uv.now() > deadline then
      timer:stop()
      timer:close()
      if uv.now() > deadline then
        return finish("timed out waiting for " .. what .. " (" .. codequorum.statusline() .. ")")
      end
      local ok, err = pcall(step)
      if not ok then
        finish(what .. ": " .. tostring(err))
      end
    end
  end))
end

vim.notify = function(message)
  table.insert(results.messages, message)
end
vim.api.nvim_create_autocmd("User", {
  pattern = "CodequorumStatus",
  callback = function()
    local status = codequorum.status()
    if results.states[#results.states] ~= status.kind then
      table.insert(results.states, status.kind)
    end
    if status.kind == "disconnected" then
      results.retry_in_s = results.retry_in_s or status.retry_in_s
    end
  end,
})
vim.cmd("filetype on")
codequorum.setup(vim.tbl_extend("force", { address = spec.address,
  settings = { server = { warm_up = false, feedback = false } } }, spec.options or {}))
vim.cmd("edit " .. vim.fn.fnameescape(spec.file))

local function ready()
  local lsp_client = require("codequorum.client").get()
  return codequorum.status().kind == "ready" and lsp_client and lsp_client.initialized
end

once("the first connection", ready, function()
  vim.fn.writefile({}, spec.dir .. "/connected")
  once("the server to go away", function()
    return codequorum.status().kind == "disconnected"
  end, function()
    results.status_while_away = vim.trim(vim.api.nvim_exec("Codequorum status", true))
    once("the connection to come back", ready, function()
      results.attached = #vim.lsp.get_clients({ bufnr = 0 })
      finish(nil)
    end)
  end)
end)
