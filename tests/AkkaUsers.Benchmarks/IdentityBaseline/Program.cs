using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Identity.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;

// The minimal Identity API service as the documentation shows it: /register, /login, /manage/info, bearer tokens.
var builder = WebApplication.CreateBuilder(args);
var database = builder.Configuration["Database"] ?? "identity.db";
builder.Services.AddDbContext<IdentityBaselineDb>(options => options.UseSqlite($"Data Source={database}"));
builder.Services.AddAuthorization();
builder.Services.AddIdentityApiEndpoints<IdentityUser>().AddEntityFrameworkStores<IdentityBaselineDb>();

var app = builder.Build();
using (var scope = app.Services.CreateScope())
    scope.ServiceProvider.GetRequiredService<IdentityBaselineDb>().Database.EnsureCreated();

app.MapIdentityApi<IdentityUser>();
app.MapGet("/health", () => "ok");
app.Run();

public sealed class IdentityBaselineDb(DbContextOptions<IdentityBaselineDb> options) : IdentityDbContext<IdentityUser>(options);
